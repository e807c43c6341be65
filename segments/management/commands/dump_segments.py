"""Write every segment's definition as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from segments.selectors import segments_dump


class Command(BaseCommand):
    help = "Write the definitions of every segment as a JSON list (to stdout or -o FILE)."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of stdout")

    def handle(self, *args, output=None, **options):
        text = json.dumps(segments_dump(), indent=2, ensure_ascii=False) + "\n"
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
