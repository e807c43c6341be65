"""Recompute segment memberships now."""

from django.core.management.base import BaseCommand, CommandError

from segments.asof import parse_as_of
from segments.models import Segment
from segments.services import segment_refresh, segments_refresh_all


class Command(BaseCommand):
    help = (
        "Recompute memberships now: every segment in dependency order, or one with --segment "
        "(which uses the current membership of the segments it names)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--segment", metavar="SLUG", help="refresh only this segment")
        parser.add_argument("--as-of", metavar="ISO", help="reference instant (ISO 8601 datetime or date); default now")

    def handle(self, *args, segment=None, as_of=None, **options):
        try:
            as_of_dt = parse_as_of(as_of) if as_of else None
        except ValueError as exc:
            raise CommandError(f"--as-of: {exc}") from None
        if segment:
            target = Segment.objects.filter(slug=segment).first()
            if target is None:
                raise CommandError(f'no segment with slug "{segment}"')
            results = [segment_refresh(segment=target, as_of=as_of_dt)]
        else:
            results = segments_refresh_all(as_of=as_of_dt)
        failed = [r for r in results if not r.ok]
        for r in results:
            line = f"{r.slug}: {r.members} members (+{r.joined} -{r.left})" if r.ok else f"{r.slug}: FAILED {r.error}"
            self.stdout.write(line)
        self.stdout.write(f"{len(results) - len(failed)} refreshed, {len(failed)} failed")
        if failed:
            raise CommandError(f"{len(failed)} segment(s) failed to refresh; their previous membership is kept")
