"""Fill an empty database with realistic, reproducible demo data."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import (
    DEFAULT_ACCOUNTS,
    DEFAULT_SEED,
    DEMO_STAFF,
    DEMO_STAFF_PASSWORD,
    customer_data_delete,
    demo_default_anchor,
    demo_extensions_run,
    demo_seed,
)
from accounts.models import Account


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f'--anchor: "{value}" is not a date (YYYY-MM-DD)') from None


class Command(BaseCommand):
    help = (
        "Load realistic, reproducible demo data into an empty database: staff, custom attributes, "
        "accounts with subscriptions, end users, 90 days of events, touchpoints and tickets. "
        "The same --seed and --anchor always give the same data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS, help="number of accounts (default 2000)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
        parser.add_argument(
            "--anchor", type=_date, default=None,
            help="the day the demo activity leads up to, YYYY-MM-DD (default: today, UTC)",
        )
        parser.add_argument(
            "--reset", action="store_true",
            help="delete every account and its data first (staff, custom attributes and segments are kept)",
        )

    def handle(self, *args, accounts, seed, anchor, reset, **options):
        if accounts < 0:
            raise CommandError("--accounts must be zero or more")
        anchor = anchor or demo_default_anchor()
        existing = Account.objects.count()
        if existing and not reset:
            raise CommandError(
                f"The database already holds {existing} accounts; seed_demo fills an empty database. "
                "Use --reset to delete all customer data first."
            )
        started = time.monotonic()
        with transaction.atomic():
            if existing:
                self.stdout.write(f"Deleting {existing} accounts and their data...")
                customer_data_delete()
            self.stdout.write(f"Seeding {accounts} accounts (seed {seed}, anchor {anchor})...")
            summary = demo_seed(accounts=accounts, seed=seed, anchor=anchor, progress=self._progress)
            seeded = time.monotonic()
            self.stdout.write("Running the demo extensions of other apps...")
            summary.extensions = demo_extensions_run(seed=seed, anchor=anchor)
        self._report(summary, seconds=seeded - started, extension_seconds=time.monotonic() - seeded)

    def _progress(self, done: int, total: int) -> None:
        """A bar on a terminal; on a pipe, one line per tenth of the work."""
        if self.stdout.isatty():
            filled = round(30 * done / total)
            end = "\n" if done == total else ""
            self.stdout.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} accounts", ending=end)
            self.stdout.flush()
        elif done * 10 // total > getattr(self, "_tenths", 0):
            self._tenths = done * 10 // total
            self.stdout.write(f"  {done}/{total} accounts")

    def _report(self, summary, *, seconds: float, extension_seconds: float) -> None:
        counts = {
            "accounts": summary.accounts,
            "subscriptions": summary.subscriptions,
            "end users": summary.end_users,
            "events": summary.events,
            "touchpoints": summary.touchpoints,
            "tickets": summary.tickets,
            "custom attributes": summary.custom_attributes,
            **summary.extensions,
        }
        self.stdout.write(", ".join(f"{n:,} {what}" for what, n in counts.items()))
        usernames = ", ".join(username for username, *_ in DEMO_STAFF)
        self.stdout.write(f"Demo staff ({usernames}) log in with the password {DEMO_STAFF_PASSWORD!r}.")
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: customer data in {seconds:.1f} s, extensions in {extension_seconds:.1f} s."
        ))
