"""The CSV format of each entity: its key, its columns and how each is typed.

This is the one definition the admin, the commands and the resources share
(interchange.md, table of entities). Lengths, choices and decimal sizes are
read from the model fields, so the import refuses exactly what the database
would refuse, with a sentence instead of an IntegrityError.
"""

import sys
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from accounts.csvio import cells
from accounts.custom_attributes import KEY_RE
from accounts.models import (
    Account,
    AttributeType,
    CustomAttributeDefinition,
    EndUser,
    Event,
    Role,
    Subscription,
    SupportTicket,
    Team,
    Touchpoint,
)

CUSTOM_PREFIX = "custom."


@dataclass(frozen=True)
class Column:
    """One CSV column: how a cell is parsed into `field` and written back from `path`."""

    name: str
    field: str  # the model attname the parsed value goes to
    path: str  # the values_list() path the export reads
    parse: cells.Parser
    render: cells.Renderer
    empty: Any = None  # the value an empty cell stores
    required: bool = False  # on create; an update may not empty it
    reference: str | None = None  # resolved in batches by accounts.csvio.references
    escape: bool = True  # free text: may look like a formula on export
    # Fast paths of the import loop (same rules as `parse`, without a call per cell).
    text_limit: int | None = None
    choice_map: dict[str, str] | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class CsvFormat:
    """An entity's CSV format (interchange.md): upserted on `key`."""

    entity: str
    noun: str  # "account", for messages
    model: type[models.Model]
    key: str
    columns: tuple[Column, ...]
    key_optional: bool = False  # events: rows without a key are appended
    custom: bool = False  # accounts: custom.<key> columns
    export_order: tuple[Any, ...] = ()
    handler: str = "bulk"  # see accounts.csvio.engine.HANDLERS
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


def text(model, name: str, *, required: bool = False, empty: Any = "") -> Column:
    limit = _field(model, name).max_length
    return Column(name, name, name, cells.text_parser(limit), cells.render_text, empty, required, text_limit=limit)


def choice(model, name: str, *, required: bool = False, empty: Any = "") -> Column:
    values = [value for value, _ in _field(model, name).choices]
    return Column(
        name, name, name, cells.choice_parser(values), cells.render_text, empty, required, escape=False,
        choice_map={v.lower(): v for v in values},
    )


def whole(model, name: str, *, minimum: int = 0, empty: Any = None) -> Column:
    return Column(name, name, name, cells.whole_parser(minimum), cells.render_int, empty, escape=False)


def money(model, name: str) -> Column:
    f = _field(model, name)
    parse = cells.money_parser(f.max_digits, f.decimal_places)
    return Column(name, name, name, parse, cells.render_decimal, escape=False)


def date(model, name: str) -> Column:
    return Column(name, name, name, cells.parse_date, cells.render_date, escape=False)


def datetime(model, name: str, *, required: bool = False) -> Column:
    return Column(name, name, name, cells.parse_datetime, cells.render_datetime, None, required, escape=False)


def boolean(model, name: str) -> Column:
    return Column(name, name, name, cells.parse_boolean, cells.render_boolean, escape=False)


def reference(name: str, kind: str, path: str, *, required: bool = False) -> Column:
    """A column naming another row (by external id, username or team name), resolved in batches."""
    return Column(name, f"{name}_id", path, cells.text_parser(None), cells.render_text, None, required, kind,
                  text_limit=sys.maxsize)


def account_ref(*, required: bool = True) -> Column:
    return reference("account", "account", "account__external_id", required=required)


def _key(model, name: str = "external_id") -> Column:
    return text(model, name, required=True)


# --- staff -------------------------------------------------------------------

_username_validator = UnicodeUsernameValidator()


def _validated(parse: cells.Parser, validator, problem: str) -> cells.Parser:
    def check(cell: str) -> str:
        value = parse(cell)
        try:
            validator(value)
        except ValidationError:
            raise cells.CellError(f"{cells.cell_show(cell)} {problem}") from None
        return value

    return check


def _staff_format() -> CsvFormat:
    User = get_user_model()
    username = text(User, "username", required=True)
    username = Column(
        "username",
        "username",
        "username",
        _validated(username.parse, _username_validator, "is not a valid username (letters, digits and @.+-_)"),
        cells.render_text,
        required=True,
    )
    email = text(User, "email")
    email = Column("email", "email", "email", _validated(email.parse, validate_email, "is not an email address"),
                   cells.render_text, "")
    role = Column("role", "role", "profile__role", cells.choice_parser(Role.values), cells.render_text, None,
                  escape=False)
    return CsvFormat(
        entity="staff",
        noun="staff member",
        model=User,
        key="username",
        columns=(
            username,
            email,
            text(User, "first_name"),
            text(User, "last_name"),
            Column("team", "team_id", "profile__team__name", cells.text_parser(_field(Team, "name").max_length),
                   cells.render_text, None, reference="team"),
            role,
        ),
        export_order=("username",),
        handler="staff",
    )


# --- custom attribute definitions --------------------------------------------


def _parse_key(cell: str) -> str:
    if not KEY_RE.match(cell) or len(cell) > _field(CustomAttributeDefinition, "key").max_length:
        rule = "lower-case letters, digits and _, starting with a letter"
        raise cells.CellError(f"{cells.cell_show(cell)} is not a key ({rule})")
    return cell


def _parse_choices(cell: str) -> list[str]:
    choices = [c.strip(" \t").lower() for c in cell.split("|")]
    if "" in choices:
        raise cells.CellError(f"{cells.cell_show(cell)} has an empty choice")
    twice = sorted({c for c in choices if choices.count(c) > 1})
    if twice:
        raise cells.CellError(f'{cells.cell_show(cell)} names "{twice[0]}" twice')
    return choices


def _render_choices(value: list[str] | None) -> str:
    return "|".join(value or [])


def _custom_attributes_format() -> CsvFormat:
    model = CustomAttributeDefinition
    return CsvFormat(
        entity="custom_attributes",
        noun="custom attribute",
        model=model,
        key="key",
        columns=(
            Column("key", "key", "key", _parse_key, cells.render_text, required=True),
            text(model, "label"),
            # An empty type is the default, text (interchange.md: only the key is required).
            choice(model, "type", empty=AttributeType.TEXT),
            Column("choices", "choices", "choices", _parse_choices, _render_choices, []),
        ),
        export_order=("key",),
        handler="custom_attributes",
    )


# --- accounts and what hangs off them ----------------------------------------


def _accounts_format() -> CsvFormat:
    A = Account
    return CsvFormat(
        entity="accounts",
        noun="account",
        model=A,
        key="external_id",
        columns=(
            _key(A),
            text(A, "name", required=True),
            text(A, "domain"),
            text(A, "industry"),
            text(A, "region"),
            choice(A, "lifecycle_stage"),
            choice(A, "plan"),
            whole(A, "licenses"),
            whole(A, "employees"),
            money(A, "mrr"),
            money(A, "potential_arr"),
            date(A, "renewal_date"),
            date(A, "customer_since"),
            reference("csm", "staff", "csm__username"),
            boolean(A, "referenceable"),
            text(A, "use_case"),
        ),
        custom=True,
        export_order=("external_id",),
    )


def _subscriptions_format() -> CsvFormat:
    S = Subscription
    return CsvFormat(
        entity="subscriptions",
        noun="subscription",
        model=S,
        key="external_id",
        columns=(
            _key(S),
            account_ref(),
            choice(S, "plan"),
            choice(S, "status"),
            choice(S, "billing_period"),
            money(S, "mrr"),
            date(S, "trial_start_date"),
            date(S, "start_date"),
            date(S, "end_date"),
        ),
        export_order=("external_id",),
    )


def _users_format() -> CsvFormat:
    U = EndUser
    return CsvFormat(
        entity="users",
        noun="user",
        model=U,
        key="external_id",
        columns=(
            _key(U),
            account_ref(),
            text(U, "email"),
            text(U, "name"),
            choice(U, "role"),
            datetime(U, "created_at"),
        ),
        export_order=("external_id",),
    )


def _events_format() -> CsvFormat:
    E = Event
    return CsvFormat(
        entity="events",
        noun="event",
        model=E,
        key="external_id",
        columns=(
            Column("external_id", "external_id", "external_id", cells.text_parser(_field(E, "external_id").max_length),
                   cells.render_text, None),
            account_ref(),
            reference("user", "user", "user__external_id"),
            text(E, "name", required=True),
            datetime(E, "occurred_at", required=True),
            # An empty quantity is the default, 1 (interchange.md).
            whole(E, "quantity", minimum=1, empty=1),
        ),
        key_optional=True,
        # Keyed events first by key, then the appended ones in the order they came.
        export_order=(models.F("external_id").asc(nulls_last=True), "occurred_at", "pk"),
        handler="events",
    )


def _touchpoints_format() -> CsvFormat:
    T = Touchpoint
    return CsvFormat(
        entity="touchpoints",
        noun="touchpoint",
        model=T,
        key="external_id",
        columns=(
            _key(T),
            account_ref(),
            choice(T, "kind", required=True),
            datetime(T, "occurred_at", required=True),
            text(T, "note"),
        ),
        export_order=("external_id",),
    )


def _tickets_format() -> CsvFormat:
    K = SupportTicket
    return CsvFormat(
        entity="tickets",
        noun="ticket",
        model=K,
        key="external_id",
        columns=(
            _key(K),
            account_ref(),
            datetime(K, "opened_at", required=True),
            choice(K, "status", required=True),
            datetime(K, "closed_at"),
            choice(K, "priority"),
        ),
        export_order=("external_id",),
    )


_BUILDERS = {
    "staff": _staff_format,
    "custom_attributes": _custom_attributes_format,
    "accounts": _accounts_format,
    "subscriptions": _subscriptions_format,
    "users": _users_format,
    "events": _events_format,
    "touchpoints": _touchpoints_format,
    "tickets": _tickets_format,
}
ENTITIES = tuple(_BUILDERS)
_FORMATS: dict[str, CsvFormat] = {}


def format_get(entity: str) -> CsvFormat:
    """Return the format of `entity` (one of ENTITIES); raise KeyError for others."""
    if entity not in _BUILDERS:
        raise KeyError(entity)
    if entity not in _FORMATS:
        # Built on first use: the user model is only known once apps are ready.
        _FORMATS[entity] = _BUILDERS[entity]()
    return _FORMATS[entity]


def custom_column(definition: CustomAttributeDefinition) -> Column:
    """The `custom.<key>` column of a custom attribute, typed by its definition."""
    parse = {
        AttributeType.TEXT: cells.text_parser(None),
        AttributeType.NUMBER: cells.json_number_parser(),
        AttributeType.DATE: cells.parse_date_text,
        AttributeType.BOOLEAN: cells.parse_boolean,
        AttributeType.CHOICE: cells.choice_parser(definition.choices),
    }[definition.type]
    escape = definition.type in (AttributeType.TEXT, AttributeType.CHOICE)
    name = CUSTOM_PREFIX + definition.key
    return Column(name, definition.key, "custom", parse, cells.render_json_value, None, escape=escape)
