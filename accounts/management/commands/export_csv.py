"""Export one entity as CSV in its import format (../shared/spec/interchange.md)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.csvio.export import ROWS_PER_CHUNK
from accounts.csvio.formats import ENTITIES
from accounts.csvio.progress import ProgressLine
from accounts.csvio.selectors import SegmentExportError, csv_segment_queryset
from accounts.csvio.services import csv_export_chunks


class Command(BaseCommand):
    help = "Export one entity as CSV in its import format, ordered by key (to standard output by default)."

    def add_arguments(self, parser):
        parser.add_argument("entity", choices=ENTITIES, help="what to export")
        parser.add_argument("--segment", metavar="SLUG", help="only the accounts (or users) now in this segment")
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")

    def handle(self, *args, entity: str, segment: str | None, output: str | None, **options):
        queryset = None
        if segment is not None:
            try:
                queryset = csv_segment_queryset(entity=entity, slug=segment)
            except SegmentExportError as exc:
                raise CommandError(f"--segment: {exc}") from None
        try:
            # newline="": the CSV writer already ends records with \r\n (RFC 4180).
            out = open(output, "w", encoding="utf-8", newline="") if output else None  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        progress = ProgressLine(self.stderr._out, total=None) if self.stderr.isatty() and output else None
        try:
            for number, chunk in enumerate(csv_export_chunks(entity=entity, queryset=queryset)):
                if out is not None:
                    out.write(chunk)
                else:
                    self.stdout.write(chunk, ending="")
                if progress:
                    progress(number * ROWS_PER_CHUNK)
        finally:
            if progress:
                progress.close()
            if out is not None:
                out.close()
            else:
                self.stdout.flush()
