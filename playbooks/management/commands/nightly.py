"""Run the whole nightly pipeline now."""

from django.core.management.base import BaseCommand, CommandError

from csbox.pipeline import nightly_run
from segments.asof import parse_as_of


class Command(BaseCommand):
    help = (
        "Run the nightly pipeline: segments, then health, alerts, milestones and journeys "
        "(the same code the django-q2 schedule runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", metavar="ISO", help="reference instant (ISO 8601 datetime or date); default now")

    def handle(self, *args, as_of=None, **options):
        try:
            as_of_dt = parse_as_of(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(f"--as-of: {exc}") from None
        results = nightly_run(as_of=as_of_dt)
        for step, result in results.items():
            if isinstance(result, list):
                failed = [r for r in result if not getattr(r, "ok", True)]
                self.stdout.write(f"{step}: {len(result)} done, {len(failed)} failed")
            else:
                self.stdout.write(f"{step}: {result}")
