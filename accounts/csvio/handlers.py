"""How each entity's rows are looked up, checked across fields and written.

`BulkHandler` serves most entities: one `in` query per ~900 keys to find the
existing rows, bulk_create for new rows, bulk_update grouped by the set of
columns that change. The others add the entity's own rules.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F

from accounts.csvio.columns import Columns
from accounts.csvio.formats import CsvFormat
from accounts.csvio.references import NewTeam, Reference, chunks, references_for
from accounts.csvio.rows import Change
from accounts.csvio.writes import TableWriter
from accounts.custom_attributes import definition_errors
from accounts.models import Account, EndUser, Role, Team
from accounts.services import account_last_activity_sync, staff_set_role


class BulkHandler:
    """Upsert rows of a plain model with bulk queries."""

    #: Rows that are the export's text of the stored row skip typing (accounts.csvio.unchanged).
    compare_text = True

    def __init__(self, fmt: CsvFormat):
        self.fmt = fmt
        self.model = fmt.model
        self._references: dict[str, Reference] | None = None
        self._writer: TableWriter | None = None

    def references(self, kinds: Iterable[str]) -> dict[str, Reference]:
        """The resolvers of this import, kept across batches (their caches too)."""
        if self._references is None:
            self._references = references_for(kinds)
        return self._references

    def lookups(self, fields: list[str], has_custom: bool) -> tuple[list[str], dict[str, Any]]:
        """The values() arguments that fetch what a batch compares against."""
        return [*dict.fromkeys(fields), *(["custom"] if has_custom else [])], {}

    def existing(
        self, keys: list[str], fields: list[str], has_custom: bool, as_text: frozenset[str] = frozenset()
    ) -> dict[str, dict[str, Any]]:
        """Return key -> the stored values of `fields` (and pk) for the keys that exist.

        The fields of `as_text` come as the export's text (TableWriter.existing).
        """
        if not keys:
            return {}
        key = self.fmt.key
        names, expressions = self.lookups(fields, has_custom)
        names = [name for name in names if name != key]
        if not expressions:
            return self.writer.existing(key, keys, [key, *names], as_text)
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(keys):
            for values in self.model.objects.filter(**{f"{key}__in": part}).values("pk", key, *names, **expressions):
                found[values[key]] = values
        return found

    @property
    def writer(self) -> TableWriter:
        if self._writer is None:
            self._writer = TableWriter(self.model)
        return self._writer

    def check(self, changes: list[Change]) -> None:
        """Add the entity's cross-field errors to the rows (none by default)."""

    def finish(self) -> None:
        """Complete a real import whose every row was good (inside its transaction; nothing by default)."""

    def accepts(self, columns: Columns, user_accounts: list[Any] | None) -> bool:
        """Whether a batch typed column by column (accounts.csvio.columns) breaks none of the entity's rules.

        False sends the batch down the row-by-row path, whose `check` words the errors.
        """
        return True

    def append(self, columns: Columns, count: int) -> None:
        """Insert `count` new rows given as columns (attname -> values)."""
        self.writer.insert_params(self.writer.column_params(columns, count))

    def write(self, creates: list[Change], updates: list[Change]) -> None:
        """Insert the new rows and update the changed ones (one statement per set of changed columns)."""
        self.writer.insert([self.new_values(c) for c in creates])
        groups: dict[tuple[str, ...], list[Change]] = defaultdict(list)
        for change in updates:
            groups[tuple(sorted(self.new_values(change)))].append(change)
        for attnames, group in groups.items():
            self.writer.update([(c.old["pk"], self.new_values(c)) for c in group], list(attnames))

    @staticmethod
    def new_values(change: Change) -> dict[str, Any]:
        """The attname -> value dict a change writes."""
        if change.custom is None:
            return change.changed
        return {**change.changed, "custom": change.custom}


class EventsHandler(BulkHandler):
    """Events: rows without an external_id are appended; a user must belong to the event's account.

    New events are held up to SORTED_ROWS (as the driver's tuples, ~300
    bytes each) and written together: on SQLite in the order of the indexes
    (TableWriter.insert_params, index_order), their ids still in file order,
    so each insert finds its index pages cached; on PostgreSQL as one COPY
    (the server spends less per row on a few big COPYs than on many small).
    Each account's derived `last_activity_at` is kept current: the latest
    new time per account is raised into it at the end (one set-based
    statement); accounts an update moves an event away from, or back in
    time, are re-derived by accounts.services.account_last_activity_sync.
    """

    compare_text = False  # the user/account rule is checked on every row
    SORTED_ROWS = 100_000
    INDEX_ORDER = ("account_id",)  # sorting ints is fast; within an account the few rows stay near each other

    def __init__(self, fmt: CsvFormat):
        super().__init__(fmt)
        self._pending: list[tuple] = []
        self._latest: dict[int, Any] = {}  # account pk -> latest occurred_at written by this import
        self._rederive: set[int] = set()  # account pks whose latest event may have moved away or back

    def write(self, creates: list[Change], updates: list[Change]) -> None:
        self._note_activity([c.changed for c in creates], updates)
        super().write([], updates)
        rows = [c.changed for c in creates]
        self._hold(self.writer.params(rows, self._pks(len(rows))))

    def accepts(self, columns: Columns, user_accounts: list[Any] | None) -> bool:
        # The rule of `check`: the user named belongs to the event's account.
        if user_accounts is None:
            return True
        return all(user is None or user == account for user, account in zip(user_accounts, columns["account_id"],
                                                                            strict=True))

    def append(self, columns: Columns, count: int) -> None:
        self._note_latest(columns["account_id"], columns["occurred_at"])
        self._hold(self.writer.column_params(columns, count, self._pks(count)))

    def _pks(self, count: int) -> list[int] | None:
        # SQLite: ids in file order now, as the rows are inserted in index order later.
        return self.writer.reserve_pks(count) if connection.vendor == "sqlite" and count else None

    def _hold(self, params: list[tuple]) -> None:
        self._pending.extend(params)
        if len(self._pending) >= self.SORTED_ROWS:
            self._insert_pending()

    def _insert_pending(self) -> None:
        # Sorting on SQLite only: measured on PostgreSQL (1M events), sorting saved the server ~7%
        # of its work and cost csbox's process more than that (ids reserved by nextval, the sort).
        sqlite = connection.vendor == "sqlite"
        self.writer.insert_params(self._pending, with_pks=sqlite, index_order=self.INDEX_ORDER if sqlite else ())
        self._pending = []

    def _note_activity(self, created: list[dict[str, Any]], updates: list[Change]) -> None:
        self._note_latest([values["account_id"] for values in created], [values["occurred_at"] for values in created])
        for change in updates:
            if "account_id" in change.changed or "occurred_at" in change.changed:
                old = change.old
                self._rederive.update((old["account_id"], change.changed.get("account_id", old["account_id"])))

    def _note_latest(self, accounts: list[int], moments: list[Any]) -> None:
        """Keep the latest new time of each account (raised into last_activity_at by finish)."""
        latest = self._latest
        for account, moment in zip(accounts, moments, strict=True):
            current = latest.get(account)
            if current is None or moment > current:
                latest[account] = moment

    def finish(self) -> None:
        self._insert_pending()
        raised = {pk: moment for pk, moment in self._latest.items() if pk not in self._rederive}
        TableWriter(Account).raise_to("last_activity_at", raised)
        if self._rederive:
            account_last_activity_sync(account_ids=self._rederive)

    def check(self, changes: list[Change]) -> None:
        # A user not named in this row (an update that keeps it) needs its account looked up.
        kept_users = {
            c.old["user_id"] for c in changes
            if c.old is not None and "user_id" not in c.row.values and c.old.get("user_id") is not None
        }
        accounts_of_kept = {}
        if kept_users:
            accounts_of_kept = dict(EndUser.objects.filter(pk__in=kept_users).values_list("pk", "account_id"))
        for change in changes:
            old = change.old or {}
            row = change.row
            user_id = row.values["user_id"] if "user_id" in row.values else old.get("user_id")
            if user_id is None:
                continue
            account_id = row.values["account_id"] if "account_id" in row.values else old.get("account_id")
            user_account = row.user_account if "user_id" in row.values else accounts_of_kept.get(user_id)
            if user_account != account_id:
                user = next((name for column, name in row.refs if column.name == "user"), None)
                account = next((name for column, name in row.refs if column.name == "account"), None)
                who = f'user "{user}"' if user else "the event's user"
                whose = f'account "{account}"' if account else "the event's account"
                row.error("user", f"{who} does not belong to {whose}")

    def lookups(self, fields: list[str], has_custom: bool) -> tuple[list[str], dict[str, Any]]:
        # The account and the user are needed to check that they go together, the
        # account and the time to keep the accounts' last activity.
        return [*dict.fromkeys([*fields, "account_id", "user_id", "occurred_at"])], {}


class CustomAttributesHandler(BulkHandler):
    """Custom attribute definitions: the definition as a whole must be valid (choices go with type)."""

    compare_text = False  # small files; the definition is checked as a whole

    def lookups(self, fields: list[str], has_custom: bool) -> tuple[list[str], dict[str, Any]]:
        return [*dict.fromkeys([*fields, "key", "type", "choices"])], {}

    def check(self, changes: list[Change]) -> None:
        for change in changes:
            merged = {**(change.old or {"type": "text", "choices": []}), **change.row.values}
            for column, message in definition_errors(
                key=merged["key"], type_=merged["type"], choices=merged["choices"]
            ).items():
                change.row.error(column, message[0].lower() + message[1:].rstrip("."))


class StaffHandler(BulkHandler):
    """Staff: auth users with a role (groups, admin access) and a team; a few rows, written one by one.

    A staff file is small (a team, not a customer base), so rows go through
    accounts.services.staff_set_role one at a time: its group and is_staff
    rules stay in one place.
    """

    USER_FIELDS = ("username", "email", "first_name", "last_name")
    compare_text = False

    def lookups(self, fields: list[str], has_custom: bool) -> tuple[list[str], dict[str, Any]]:
        plain = [f for f in fields if f in self.USER_FIELDS]
        return [*dict.fromkeys(plain)], {"role": F("profile__role"), "team_id": F("profile__team_id")}

    def check(self, changes: list[Change]) -> None:
        # A missing role is the least privilege, viewer; a user with neither
        # role nor team keeps no profile at all (e.g. a bare superuser).
        for change in changes:
            old = change.old or {"role": None, "team_id": None}
            role = change.row.values.get("role", old["role"])
            team = change.row.values.get("team_id", old["team_id"])
            if role is None and (team is not None or old["role"] is not None):
                change.row.values["role"] = Role.VIEWER
                if old["role"] != Role.VIEWER:
                    change.changed["role"] = Role.VIEWER
                else:
                    change.changed.pop("role", None)

    def write(self, creates: list[Change], updates: list[Change]) -> None:
        User = get_user_model()
        teams = self._teams(c.row.values.get("team_id") for c in creates + updates)
        users = User.objects.in_bulk([c.old["pk"] for c in updates])
        for change in creates + updates:
            values = change.row.values
            if change.old is None:
                user = User(**{f: values[f] for f in self.USER_FIELDS if f in values})
                user.set_unusable_password()
                user.save()
            else:
                user = users[change.old["pk"]]
                user_fields = {f: v for f, v in change.changed.items() if f in self.USER_FIELDS}
                if user_fields:
                    User.objects.filter(pk=user.pk).update(**user_fields)
            if "role" in change.changed or "team_id" in change.changed:
                old = change.old or {"role": None, "team_id": None}
                role = values.get("role", old["role"])
                team_id = values.get("team_id", old["team_id"])
                if role is not None or team_id is not None:
                    team = teams.get(team_id.name if isinstance(team_id, NewTeam) else team_id)
                    staff_set_role(user=user, role=role or Role.VIEWER, team=team)

    @staticmethod
    def _teams(wanted: Iterable[Any]) -> dict[Any, Team]:
        """Teams by pk, and new teams (created now) by name."""
        wanted = [w for w in wanted if w is not None]
        teams: dict[Any, Team] = dict(Team.objects.in_bulk([w for w in wanted if not isinstance(w, NewTeam)]))
        for new in {w.name for w in wanted if isinstance(w, NewTeam)}:
            teams[new] = Team.objects.get_or_create(name=new)[0]
        return teams


HANDLERS = {
    "bulk": BulkHandler,
    "events": EventsHandler,
    "custom_attributes": CustomAttributesHandler,
    "staff": StaffHandler,
}
