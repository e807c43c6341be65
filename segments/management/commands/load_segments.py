"""Load segment definitions (JSON) from a file: all or nothing."""

import json

from django.core.management.base import BaseCommand, CommandError

from segments.services import DefinitionsError, segments_load


class Command(BaseCommand):
    help = "Create or update segments from a JSON file of definitions (all or nothing; a slug that exists is updated)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the JSON file, or - for standard input")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                import sys

                raw = sys.stdin.buffer.read()
            else:
                with open(file, "rb") as handle:
                    raw = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        try:
            result = segments_load(data=data)
        except DefinitionsError as exc:
            raise CommandError("nothing was loaded:\n" + "\n".join(exc.errors)) from None
        self.stdout.write(f"{len(result.created)} created, {len(result.updated)} updated")
