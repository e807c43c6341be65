"""The field registry: every field a condition may name, in one declarative table.

Spec: /work/shared/spec/conditions.md, "The field registry". One immutable
`Field` per key and segment kind: its label, group, type, choices,
parameters and how it becomes SQL (an operand factory). Validation, the
compiler, the plain-English renderer, the API's field list, the admin
builder and the completeness audit all read it. Filled at import time
(start-up); `register` raises on a duplicate key. Custom attributes
(`custom.<key>`) and, in user segments, `account.<key>` are derived on
demand from the definitions and the account fields.

Providers: `health_score` / `health_label` are declared here but their SQL
comes from the health app, which calls `register_provider()` in its
`AppConfig.ready()`. Until a provider is registered the field compiles to
NULL: missing for every account (only `is_not_set` matches).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import CharField, Exists, F, IntegerField, OuterRef, Q, Subquery, Value

from accounts.models import (
    Account,
    BillingPeriod,
    EndUserRole,
    LifecycleStage,
    Plan,
    SubscriptionStatus,
    Team,
    TouchpointKind,
)
from segments import metrics
from segments.operands import (
    AccountOperand,
    ExprOperand,
    MembershipOperand,
    Operand,
    RankOperand,
    SubscriptionOperand,
)
from segments.sql import MATCH_NONE, CustomValue, InList

KINDS = ("account", "user")
GROUPS = ("Account", "Custom attributes", "Team", "Subscription", "Engagement", "Segments", "User")
TYPES = ("integer", "decimal", "text", "choice", "boolean", "date", "datetime", "user")

# Operators per value type (spec table "Types and operators"); is_set and
# is_not_set apply to every type.
OPERATORS: dict[str, tuple[str, ...]] = {
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in"),
    "text": ("eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "in", "not_in"),
    "choice": ("eq", "ne", "in", "not_in"),
    "boolean": ("is_true", "is_false"),
    "date": ("eq", "before", "after", "on_or_before", "on_or_after", "between", "in_last_days", "in_next_days",
             "more_than_days_ago", "more_than_days_ahead", "in_current"),
    "user": ("eq", "ne", "in", "not_in"),
}
PRESENCE_OPERATORS = ("is_set", "is_not_set")
NO_VALUE_OPERATORS = frozenset({"is_set", "is_not_set", "is_true", "is_false"})
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")

PARAM_TYPES = ("days", "role", "kind", "feature")
ROLE_CHOICES = tuple(EndUserRole.choices)
TOUCHPOINT_CHOICES = tuple(TouchpointKind.choices)
MAX_DAYS = 36500


def value_type(type_: str) -> str:
    """The operator family of a field type: integer and decimal are numbers, datetime is a date."""
    return {"integer": "number", "decimal": "number", "datetime": "date"}.get(type_, type_)


@dataclass(frozen=True)
class Param:
    """A metric parameter: `days` (0-36500), `role`, `kind` (touchpoint) or `feature`."""

    name: str
    optional: bool = False

    def describe(self) -> dict:
        described: dict[str, Any] = {"name": self.name, "optional": self.optional}
        if self.name == "role":
            described["choices"] = [{"value": v, "label": str(lbl)} for v, lbl in ROLE_CHOICES]
        elif self.name == "kind":
            described["choices"] = [{"value": v, "label": str(lbl)} for v, lbl in TOUCHPOINT_CHOICES]
        elif self.name == "days":
            described.update(min=0, max=MAX_DAYS)
        return described


OperandFactory = Callable[[Any, Mapping[str, Any]], Operand]


@dataclass(frozen=True)
class Field:
    """One field of the condition language (immutable).

    `operand(ctx, params)` builds the SQL side for one evaluation (ctx has
    `as_of`, `today`, `kind`, `custom`). `segment_kind`: for the `segment`
    field, the kind of segments it names. `unit`: "%" for percentages (shown
    in English). `phrase(params)`: the field in a sentence, with its params.
    """

    key: str
    label: str
    group: str
    type: str
    operand: OperandFactory
    choices: tuple[tuple[str, str], ...] = ()
    params: tuple[Param, ...] = ()
    operators: tuple[str, ...] = ()
    segment_kind: str | None = None
    unit: str = ""
    help: str = ""
    phrase: Callable[[Mapping[str, Any]], str] | None = field(default=None, compare=False)

    @property
    def value_type(self) -> str:
        return value_type(self.type)

    @property
    def allowed_operators(self) -> tuple[str, ...]:
        return self.operators or (OPERATORS.get(self.value_type, ()) + PRESENCE_OPERATORS)

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)

    def choice_label(self, value: str) -> str:
        return next((str(label) for v, label in self.choices if v == value), value)

    def describe(self) -> dict:
        """A JSON-serialisable description for the builder, the API and the audit."""
        described = {
            "key": self.key,
            "label": self.label,
            "group": self.group,
            "type": "choice" if self.segment_kind else self.type,
            "operators": list(self.allowed_operators),
            "choices": [{"value": v, "label": str(lbl)} for v, lbl in self.choices],
            "params": [p.describe() for p in self.params],
            "unit": self.unit,
            "help": self.help,
        }
        if self.segment_kind:
            described["choices_from"] = f"{self.segment_kind}_segments"
        return described


@dataclass(frozen=True)
class CustomDef:
    """What the language needs of a CustomAttributeDefinition."""

    key: str
    type: str
    choices: tuple[str, ...] = ()
    label: str = ""


CUSTOM_TYPES = {"text": "text", "number": "decimal", "date": "date", "boolean": "boolean", "choice": "choice"}


class Registry:
    """Fields by segment kind and key; providers for fields owned by higher apps."""

    def __init__(self):
        self._fields: dict[str, dict[str, Field]] = {kind: {} for kind in KINDS}
        self._providers: dict[str, Callable] = {}
        self._provided: set[str] = set()

    def register(self, field_: Field, *, kind: str = "account") -> Field:
        if kind not in self._fields:
            raise ValueError(f'unknown segment kind "{kind}"')
        if field_.key in self._fields[kind]:
            raise ValueError(f'field "{field_.key}" is already registered for {kind} segments')
        self._fields[kind][field_.key] = field_
        return field_

    def declare_provided(self, key: str) -> None:
        """Mark `key` as a field whose SQL a higher app provides."""
        self._provided.add(key)

    def register_provider(self, key: str, provider: Callable) -> None:
        """Let a higher app give the SQL of a provided field: provider(*, as_of) -> Expression.

        The expression is evaluated on Account rows (OuterRef("pk") is the account).
        """
        if key not in self._provided:
            raise ValueError(f'"{key}" is not a provided field')
        if key in self._providers:
            raise ValueError(f'a provider for "{key}" is already registered')
        self._providers[key] = provider

    def provider(self, key: str) -> Callable | None:
        return self._providers.get(key)

    def get(self, key: str, *, kind: str) -> Field | None:
        return self._fields.get(kind, {}).get(key)

    def static_fields(self, kind: str) -> list[Field]:
        return list(self._fields[kind].values())

    def resolve(self, key: Any, *, kind: str, custom: Mapping[str, CustomDef]) -> Field | None:
        """The field `key` names in a `kind` segment, or None when there is none."""
        if not isinstance(key, str):
            return None
        if kind == "user" and key.startswith("account."):
            inner = self.resolve(key[len("account.") :], kind="account", custom=custom)
            return account_field(inner) if inner else None
        if kind == "account" and key.startswith("custom."):
            definition = custom.get(key[len("custom.") :])
            return custom_field(definition) if definition else None
        return self.get(key, kind=kind)

    def fields_for(self, kind: str, *, custom_definitions: Iterable[CustomDef] = ()) -> list[Field]:
        """Every field of a `kind` segment, custom attributes included, in builder order."""
        customs = [custom_field(d) for d in sorted(custom_definitions, key=lambda d: d.key)]
        ordered = _group_order(self.static_fields("account"), customs)
        if kind == "account":
            return ordered
        return self.static_fields("user") + [account_field(f) for f in ordered]


def _group_order(fields: list[Field], customs: list[Field]) -> list[Field]:
    """Account fields with the custom attributes placed after the Account group."""
    head = [f for f in fields if f.group == "Account"]
    tail = [f for f in fields if f.group != "Account"]
    return head + customs + tail


registry = Registry()


# Operand factories ----------------------------------------------------------


def column(name: str, *, type_: str) -> OperandFactory:
    """A model column: integer, decimal (money, 2 places), text, choice, date, datetime, boolean."""
    text = type_ in ("text", "choice")
    scale = {"integer": 0, "decimal": 2}.get(type_)
    date_param = "datetime" if type_ == "datetime" else "date"

    def operand(ctx, params) -> Operand:
        return ExprOperand(F(name), nullable=True, empty_missing=text, scale=scale, date_param=date_param,
                           list_element="numeric" if scale is not None else "text")

    return operand


def _money(expr_factory: Callable[[], Any]) -> OperandFactory:
    def operand(ctx, params) -> Operand:
        return ExprOperand(expr_factory(), scale=2, list_element="numeric")

    return operand


def _arr():
    from django.db.models import DecimalField, ExpressionWrapper
    from django.db.models.functions import Round

    # ROUND(.., 2): exact on PostgreSQL's numeric; on SQLite (doubles) it gives
    # the double nearest the exact cents, so equal amounts compare equal.
    return Round(ExpressionWrapper(F("mrr") * Value(12), output_field=DecimalField()), 2, output_field=DecimalField())


def _expansion_gap():
    from django.db.models import DecimalField, ExpressionWrapper
    from django.db.models.functions import Round

    gap = ExpressionWrapper(F("potential_arr") - _arr(), output_field=DecimalField())
    return Round(gap, 2, output_field=DecimalField())


def _provided(key: str, type_: str) -> OperandFactory:
    def operand(ctx, params) -> Operand:
        provider = registry.provider(key)
        output = IntegerField() if type_ == "integer" else CharField()
        expr = provider(as_of=ctx.as_of) if provider else Value(None, output_field=output)
        return ExprOperand(expr, empty_missing=type_ == "choice", scale=0 if type_ == "integer" else None,
                           list_element="numeric" if type_ == "integer" else "text")

    return operand


def _csm(ctx, params) -> Operand:
    return UserOperand()


class UserOperand(ExprOperand):
    """The account's CSM, compared by exact username (eq is `in` of one name)."""

    def __init__(self):
        super().__init__(F("csm_id"))

    def in_list(self, values: list) -> Q:
        if not values:
            return MATCH_NONE
        users = get_user_model().objects.filter(pk=OuterRef("csm_id"))
        return Q(Exists(users.filter(InList(F("username"), values, element="text"))))

    def explain_value(self, rows):
        return rows.values_list("csm__username", flat=True).first()


def _team(ctx, params) -> Operand:
    teams = Team.objects.filter(members__user_id=OuterRef("csm_id")).values("name")[:1]
    return ExprOperand(Subquery(teams, output_field=CharField()), empty_missing=True)


def _custom(definition: CustomDef) -> OperandFactory:
    def operand(ctx, params) -> Operand:
        expr = CustomValue(definition.key, definition.type)
        if definition.type == "number":
            return ExprOperand(expr, list_element="numeric")
        return ExprOperand(expr, empty_missing=definition.type in ("text", "choice", "date"), date_param="iso")

    return operand


def _subscription(name: str, type_: str) -> OperandFactory:
    inner = column(name, type_=type_)

    def operand(ctx, params) -> Operand:
        return SubscriptionOperand(inner(ctx, params))

    return operand


def _membership(kind: str) -> OperandFactory:
    def operand(ctx, params) -> Operand:
        from segments.models import AccountMembership, UserMembership

        if kind == "account":
            return MembershipOperand(AccountMembership, "account")
        return MembershipOperand(UserMembership, "user")

    return operand


def custom_field(definition: CustomDef) -> Field:
    """The `custom.<key>` field of a custom attribute definition."""
    type_ = CUSTOM_TYPES.get(definition.type, "text")
    return Field(
        key=f"custom.{definition.key}",
        label=definition.label or definition.key,
        group="Custom attributes",
        type=type_,
        choices=tuple((c, c) for c in definition.choices) if type_ == "choice" else (),
        operand=_custom(definition),
    )


def account_field(inner: Field) -> Field:
    """The `account.<key>` field of a user segment: `inner` on the user's account."""
    inner_operand = inner.operand

    def operand(ctx, params) -> Operand:
        return AccountOperand(inner_operand(ctx, params))

    inner_phrase = inner.phrase

    def phrase(params) -> str:
        text = inner_phrase(params) if inner_phrase else sentence_label(inner.label)
        # "a subscription's plan" -> "an account subscription's plan"
        return "an account " + text[2:] if text.startswith("a ") else "account's " + text

    return Field(
        key=f"account.{inner.key}",
        label=f"Account: {inner.label}",
        group=f"Account: {inner.group}",
        type=inner.type,
        choices=inner.choices,
        params=inner.params,
        operators=inner.operators,
        segment_kind=inner.segment_kind,
        unit=inner.unit,
        help=inner.help,
        operand=operand,
        phrase=phrase,
    )


def sentence_label(label: str) -> str:
    """A label inside a sentence: "Health score" -> "health score", "MRR" stays."""
    if len(label) > 1 and label[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


# Phrases of the metrics (English) ---------------------------------------------


def _role(params) -> str:
    role = params.get("role")
    return f" with the {dict(ROLE_CHOICES).get(role, role)} role" if role else ""


def _days(params) -> str:
    days = params.get("days")
    if days is None:
        return ""
    days = int(days)
    return " today" if days == 0 else f" in the last {days} day{'s' if days != 1 else ''}"


def _feature(params) -> str:
    feature = params.get("feature")
    return f' of "{feature}"' if feature else ""


def _kind(params) -> str:
    kind = params.get("kind")
    return f"{sentence_label(str(dict(TOUCHPOINT_CHOICES).get(kind, kind)))} " if kind else ""


A, CA, TEAM, SUB, ENG, SEG, USER = GROUPS
DAYS, ROLE, KIND, FEATURE = Param("days"), Param("role", True), Param("kind", True), Param("feature", True)


def reg(key, label, group, type_, operand, kind_="account", **extra) -> Field:
    """Register one field (the one-line entry of a new field)."""
    return registry.register(Field(key=key, label=label, group=group, type=type_, operand=operand, **extra),
                             kind=kind_)


def _declare_account_fields():
    """The fields stored on the account (and health, provided by the health app)."""
    for key, label in (("name", "Name"), ("external_id", "External ID"), ("domain", "Domain"),
                       ("industry", "Industry"), ("region", "Region")):
        reg(key, label, A, "text", column(key, type_="text"))
    reg("lifecycle_stage", "Lifecycle stage", A, "choice", column("lifecycle_stage", type_="choice"),
        choices=tuple(LifecycleStage.choices))
    reg("plan", "Plan", A, "choice", column("plan", type_="choice"), choices=tuple(Plan.choices))
    reg("licenses", "Licenses", A, "integer", column("licenses", type_="integer"), help="Seats purchased.")
    reg("employees", "Employees", A, "integer", column("employees", type_="integer"), help="Organisation size.")
    reg("mrr", "MRR", A, "decimal", column("mrr", type_="decimal"), help="Monthly recurring revenue.")
    reg("arr", "ARR", A, "decimal", _money(_arr), help="MRR * 12.")
    reg("potential_arr", "Potential ARR", A, "decimal", column("potential_arr", type_="decimal"),
        help="PARR: what the account could be worth.")
    reg("expansion_gap", "Expansion gap", A, "decimal", _money(_expansion_gap), help="Potential ARR - ARR.")
    reg("renewal_date", "Renewal date", A, "date", column("renewal_date", type_="date"))
    reg("customer_since", "Customer since", A, "date", column("customer_since", type_="date"))
    reg("referenceable", "Referenceable", A, "boolean", column("referenceable", type_="boolean"))
    reg("use_case", "Use case", A, "text", column("use_case", type_="text"))
    for key in ("health_score", "health_label"):
        registry.declare_provided(key)
    reg("health_score", "Health score", A, "integer", _provided("health_score", "integer"),
        help="Latest computed score, 0-100.")
    reg("health_label", "Health label", A, "choice", _provided("health_label", "choice"),
        choices=(("good", "Good"), ("average", "Average"), ("poor", "Poor")))
    reg("mrr_rank", "MRR rank", A, "integer", lambda ctx, params: RankOperand(Account),
        help="1 = highest MRR; ties share a rank.")


def _declare_team_and_subscription_fields():
    reg("csm", "CSM", TEAM, "user", _csm, help="The account's customer success manager.")
    reg("team", "Team", TEAM, "text", _team, help="The CSM's team.")

    # "The account has at least one subscription whose ...": each rule reads "a subscription's ...".
    for key, label, type_, choices in (
        ("plan", "plan", "choice", Plan.choices), ("status", "status", "choice", SubscriptionStatus.choices),
        ("billing_period", "billing period", "choice", BillingPeriod.choices), ("mrr", "MRR", "decimal", ()),
        ("trial_start_date", "trial start date", "date", ()), ("start_date", "start date", "date", ()),
        ("end_date", "end date", "date", ()),
    ):
        reg(f"subscription.{key}", f"Subscription {label}", SUB, type_, _subscription(key, type_),
            choices=tuple(choices), phrase=lambda p, label=label: f"a subscription's {label}")


def _declare_engagement_fields():
    """Engagement metrics as of as_of (segments.metrics) and segment membership."""
    days, role, kind, feature = DAYS, ROLE, KIND, FEATURE
    reg("users", "Users", ENG, "integer", metrics.users_operand, params=(role,),
        phrase=lambda p: "users" + _role(p))
    reg("active_users", "Active users", ENG, "integer", metrics.active_users_operand, params=(days, role),
        phrase=lambda p: "active users" + _role(p) + _days(p))
    reg("inactive_users_pct", "Inactive users %", ENG, "decimal", metrics.inactive_users_pct_operand,
        params=(days, role), unit="%", phrase=lambda p: "inactive users" + _role(p) + _days(p))
    reg("license_utilization_pct", "License utilization %", ENG, "decimal",
        metrics.license_utilization_pct_operand, params=(days,), unit="%",
        phrase=lambda p: "license utilization" + _days(p))
    reg("logins", "Logins", ENG, "integer", metrics.logins_operand_for("account"), params=(days,),
        phrase=lambda p: "logins" + _days(p))
    reg("usage", "Usage", ENG, "integer", metrics.usage_operand_for("account"), params=(days, feature),
        phrase=lambda p: "usage" + _feature(p) + _days(p))
    reg("usage_change_pct", "Usage change %", ENG, "decimal", metrics.usage_change_pct_operand,
        params=(days, feature), unit="%",
        phrase=lambda p: "usage change" + _feature(p) + _days(p) + " vs the previous period")
    reg("days_since_last_activity", "Days since last activity", ENG, "integer",
        metrics.days_since_activity_operand_for("account"), params=(role,),
        phrase=lambda p: "days since last activity" + (" of users" + _role(p) if p.get("role") else ""))
    reg("touchpoints", "Touchpoints", ENG, "integer", metrics.touchpoints_operand, params=(days, kind),
        phrase=lambda p: _kind(p) + "touchpoints" + _days(p))
    reg("days_since_last_touchpoint", "Days since last touchpoint", ENG, "integer",
        metrics.days_since_touchpoint_operand, params=(kind,),
        phrase=lambda p: "days since last " + _kind(p) + "touchpoint")
    reg("open_tickets", "Open tickets", ENG, "integer", metrics.open_tickets_operand)
    reg("tickets", "Tickets", ENG, "integer", metrics.tickets_operand, params=(days,),
        phrase=lambda p: "tickets opened" + _days(p))
    reg("segment", "Segment", SEG, "choice", _membership("account"), operators=("in", "not_in"),
        segment_kind="account")


def _declare_user_fields():
    """User segments: the user's own fields and metrics (account.<key> is derived)."""
    days, feature = DAYS, FEATURE
    reg("email", "Email", USER, "text", column("email", type_="text"), kind_="user")
    reg("name", "Name", USER, "text", column("name", type_="text"), kind_="user")
    reg("role", "Role", USER, "choice", column("role", type_="choice"), kind_="user", choices=ROLE_CHOICES)
    reg("created_at", "Created at", USER, "datetime", column("created_at", type_="datetime"), kind_="user")
    reg("logins", "Logins", ENG, "integer", metrics.logins_operand_for("user"), kind_="user", params=(days,),
        phrase=lambda p: "logins" + _days(p))
    reg("usage", "Usage", ENG, "integer", metrics.usage_operand_for("user"), kind_="user",
        params=(days, feature), phrase=lambda p: "usage" + _feature(p) + _days(p))
    reg("days_since_last_activity", "Days since last activity", ENG, "integer",
        metrics.days_since_activity_operand_for("user"), kind_="user")
    reg("segment", "Segment", SEG, "choice", _membership("user"), kind_="user", operators=("in", "not_in"),
        segment_kind="user")


_declare_account_fields()
_declare_team_and_subscription_fields()
_declare_engagement_fields()
_declare_user_fields()
