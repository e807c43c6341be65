"""Helpers for the CSV import/export tests: run the commands as ops would."""

import io
from dataclasses import dataclass
from pathlib import Path

from django.core.management import CommandError, call_command

from accounts.models import Account, CustomAttributeDefinition, EndUser, Event, Subscription, SupportTicket, Touchpoint


@dataclass
class Outcome:
    """What import_csv did: exit status (0 or 1), standard output and error."""

    status: int
    out: str
    err: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("line ")]


def write_csv(directory: Path, data: str | bytes, name: str = "in.csv") -> Path:
    path = directory / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def import_file(directory: Path, entity: str, data: str | bytes, *, dry_run: bool = False) -> Outcome:
    """Run `import_csv ENTITY FILE [--dry-run]`; a CommandError is exit status 1, as on the command line."""
    path = write_csv(directory, data)
    out, err = io.StringIO(), io.StringIO()
    args = [entity, str(path)] + (["--dry-run"] if dry_run else [])
    try:
        call_command("import_csv", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}\n")
        return Outcome(exc.returncode, out.getvalue(), err.getvalue())
    return Outcome(0, out.getvalue(), err.getvalue())


def export_text(entity: str, *args: str) -> str:
    out = io.StringIO()
    call_command("export_csv", entity, *args, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    models = (Account, Subscription, EndUser, Event, Touchpoint, SupportTicket, CustomAttributeDefinition)
    return {model.__name__: model.objects.count() for model in models}
