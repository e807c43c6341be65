"""Time the segment admin's live preview (and the completeness audit) at 100,000 accounts.

Usage (from the project root):

    .venv/bin/python bench/bench_admin_preview.py --accounts 100000
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_admin_preview.py

Without DATABASE_URL a throwaway SQLite file under bench/out/ is used. The
database is migrated, filled with accounts (attributes only: the preview's
"attribute rules" case), one saved segment is refreshed so that the preview
also computes who joins and leaves, then each condition below is previewed
`--runs` times through `admin_preview` (what the builder's endpoint calls):
validation, count, total, sample, join/leave counts and samples, the
sentence and two expectations. Median and worst times are printed.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONDITIONS = {
    "mrr > 5000": {"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": 5000}]},
    "plan = enterprise and region in [EMEA, APAC]": {"match": "all", "rules": [
        {"field": "plan", "op": "eq", "value": "enterprise"},
        {"field": "region", "op": "in", "value": ["EMEA", "APAC"]}]},
    "two groups (stage, renewal date, industry contains)": {"match": "all", "rules": [
        {"field": "lifecycle_stage", "op": "in", "value": ["renewal", "nurturing"]},
        {"match": "any", "rules": [
            {"field": "renewal_date", "op": "in_next_days", "value": 90},
            {"field": "industry", "op": "contains", "value": "bank"},
            {"field": "licenses", "op": "between", "value": [50, 500]}]}]},
    "mrr_rank <= 100": {"match": "all", "rules": [{"field": "mrr_rank", "op": "lte", "value": 100}]},
}


def _setup_database(path: Path) -> None:
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{path}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "csbox.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fill(accounts: int) -> None:
    import datetime as dt

    from accounts.models import Account

    rng = random.Random(42)
    industries = ["Banking", "Retail", "Software", "Health", "", "Logistics"]
    today = dt.date(2026, 6, 1)
    batch = []
    Account.objects.all().delete()
    for n in range(accounts):
        batch.append(Account(
            external_id=f"B-{n}", name=f"Account {n}", plan=rng.choice(["starter", "business", "enterprise"]),
            lifecycle_stage=rng.choice(["trial", "onboarding", "nurturing", "renewal", "churned"]),
            region=rng.choice(["EMEA", "APAC", "Americas", ""]), industry=rng.choice(industries),
            mrr=None if rng.random() < 0.05 else Decimal(rng.randint(50, 60000)),
            licenses=rng.randint(1, 1000), renewal_date=today + dt.timedelta(days=rng.randint(-200, 400)),
        ))
        if len(batch) == 5000:
            Account.objects.bulk_create(batch)
            batch = []
    Account.objects.bulk_create(batch)


def _time(fn, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(dir=ROOT / "bench" / "out" if (ROOT / "bench" / "out").is_dir() else None))
    _setup_database(workdir / "bench.sqlite3")
    from django.db import connection

    from segments.admin_selectors import PreviewRequest, admin_preview
    from segments.models import Segment
    from segments.selectors_audit import conditions_completeness
    from segments.services import segment_refresh

    started = time.perf_counter()
    _fill(options.accounts)
    print(f"{connection.vendor}: {options.accounts:,} accounts in {time.perf_counter() - started:.1f} s")
    Segment.objects.filter(slug="bench").delete()
    saved = Segment.objects.create(slug="bench", name="Bench", conditions=CONDITIONS["mrr > 5000"])
    segment_refresh(segment=saved)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # a live database has statistics; a freshly bulk-loaded one not yet
    print(f"saved segment refreshed: {saved.member_count:,} members")
    for label, conditions in CONDITIONS.items():
        request = PreviewRequest(kind="account", conditions=conditions, segment=saved,
                                 expect_members=("B-1", "B-2"), expect_non_members=("B-3",))
        payload, valid = admin_preview(request=request)
        assert valid, payload
        median, worst = _time(lambda request=request: admin_preview(request=request), options.runs)
        audit_median, _ = _time(lambda c=conditions: conditions_completeness(conditions=c, kind="account"), 3)
        print(f"preview  {label:55s} count={payload['count']:>7,} join={payload['joining']:>6,} "
              f"leave={payload['leaving']:>6,}  median {median:6.0f} ms  worst {worst:6.0f} ms  "
              f"| audit median {audit_median:5.0f} ms")


if __name__ == "__main__":
    main()
