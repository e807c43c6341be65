"""Import one CSV file into one entity, all or nothing (../shared/spec/interchange.md)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.csvio.formats import ENTITIES
from accounts.csvio.progress import ProgressLine, lines_in_file
from accounts.csvio.services import csv_import


class Command(BaseCommand):
    help = (
        "Import a CSV file into one entity: rows are matched on their key (updated) or created. "
        "All or nothing: any bad row is reported with its line and column and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("entity", choices=ENTITIES, help="what the file holds")
        parser.add_argument("file", help="the CSV file (UTF-8), or - for standard input")
        parser.add_argument("--dry-run", action="store_true", help="check the file and report, write nothing")

    def handle(self, *args, entity: str, file: str, dry_run: bool, **options):
        try:
            stream = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        progress = None
        if self.stderr.isatty():
            lines = lines_in_file(stream)
            progress = ProgressLine(self.stderr._out, total=None if lines is None else max(lines - 1, 0))
        try:
            result = csv_import(entity=entity, stream=stream, dry_run=dry_run, progress=progress)
        finally:
            if progress:
                progress.close()
            if stream is not sys.stdin.buffer:
                stream.close()
        if not result.ok:
            for message in result.listed_errors():
                self.stderr.write(message)
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
