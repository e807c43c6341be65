"""Benchmark the segment refresh against hand-written INSERT ... SELECT, same database, same run.

Usage (from the project root; DATABASE_URL selects PostgreSQL, default a
throwaway SQLite file under bench/out/):

    .venv/bin/python bench/bench_segments.py --accounts 100000 --users 1000000 --events 10000000
    .venv/bin/python bench/bench_segments.py --accounts 10000 --users 100000 --events 1000000   # quick

It generates accounts, subscriptions, end users and events (90 days), 50
segments mixing attribute, subscription, feature-recency, inactivity and
usage-change rules, then reports:

- the hand-written baseline: one `INSERT INTO ... SELECT` per segment;
- csbox's full refresh (`refresh_segments` in a child process: wall time and
  peak RSS), and each segment's time;
- a second refresh in which nothing changed (membership rows written);
- preview count vs a hand-written COUNT(*);
and checks that every membership equals the baseline's.
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
FEATURES = ("reports", "dashboards", "exports", "data_import", "integrations", "api")
PLANS = ("starter", "business", "enterprise")
STAGES = ("trial", "onboarding", "nurturing", "renewal", "churned")
STATUSES = ("trial", "active", "cancelled", "expired")


def _setup_django(db_path: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csbox.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("CSBOX_ALLOW_DEV_SECRET", "1")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    import django

    django.setup()


def _insert(table: str, columns: tuple[str, ...], rows, batch: int = 20_000) -> int:
    from django.db import connection

    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names
    done, chunk = 0, []
    with connection.cursor() as cursor:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                done += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            done += len(chunk)
    return done


def generate(*, accounts: int, users: int, events: int, seed: int) -> None:
    """Write the synthetic data set (plain multi-row inserts, one transaction per table)."""
    from django.db import connection, transaction

    rng = random.Random(seed)
    adapt = connection.ops.adapt_datetimefield_value
    start = AS_OF - dt.timedelta(days=90)
    with transaction.atomic():
        _insert("accounts_account", ("id", "external_id", "name", "domain", "industry", "region", "lifecycle_stage",
                                     "plan", "licenses", "mrr", "use_case", "custom"),
                ((i, f"A-{i:07d}", f"Account {i}", "", "", rng.choice(("EMEA", "NA", "APAC")), rng.choice(STAGES),
                  rng.choice(PLANS), rng.randint(1, 200), round(rng.lognormvariate(7, 1.2), 2), "", "{}")
                 for i in range(1, accounts + 1)))
        _insert("accounts_subscription", ("id", "external_id", "account_id", "plan", "status", "billing_period"),
                ((i, f"S-{i:07d}", i, rng.choice(PLANS), rng.choice(STATUSES), "annual")
                 for i in range(1, accounts + 1)))
        _insert("accounts_enduser", ("id", "external_id", "account_id", "email", "name", "role", "created_at"),
                ((i, f"U-{i:08d}", 1 + i % accounts, "", "", rng.choice(("admin", "user", "user", "user")), None)
                 for i in range(1, users + 1)))
    # Some accounts decline sharply, some are dormant: make usage-change and inactivity rules bite.
    with transaction.atomic():
        def event_rows():
            for _ in range(events):
                user = rng.randint(1, users)
                account = 1 + user % accounts
                fade = account % 7
                offset = rng.random() * 90
                if fade == 0:
                    offset = 30 + rng.random() * 60  # dormant for the last 30 days
                elif fade == 1 and offset < 30 and rng.random() < 0.7:
                    offset += 30  # declining
                name = "login" if rng.random() < 0.4 else rng.choice(FEATURES)
                yield (account, user, name, adapt(AS_OF - dt.timedelta(days=offset)), rng.randint(1, 5))

        _insert("accounts_event", ("account_id", "user_id", "name", "occurred_at", "quantity"), event_rows())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    del start


def segment_specs() -> list[tuple[str, dict, str, list]]:
    """50 (slug, conditions, hand-written WHERE on accounts a, params) of five families."""
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    specs = []
    for i in range(10):
        threshold = 200 * (i + 1)
        plan = PLANS[i % 3]
        specs.append((f"attr-{i}", {"match": "all", "rules": [
            {"field": "mrr", "op": "gt", "value": threshold}, {"field": "plan", "op": "eq", "value": plan}]},
            "a.mrr > %s AND a.plan = %s", [threshold, plan]))
        status = STATUSES[i % 4]
        stage = STAGES[i % 5]
        specs.append((f"subscription-{i}", {"match": "all", "rules": [
            {"field": "subscription.status", "op": "eq", "value": status},
            {"field": "lifecycle_stage", "op": "eq", "value": stage}]},
            "EXISTS (SELECT 1 FROM accounts_subscription s WHERE s.account_id = a.id AND s.status = %s) "
            "AND a.lifecycle_stage = %s", [status, stage]))
        days, feature = 7 + 3 * i, FEATURES[i % 6]
        specs.append((f"feature-{i}", {"match": "all", "rules": [
            {"field": "usage", "params": {"days": days, "feature": feature}, "op": "gte", "value": 1}]},
            "EXISTS (SELECT 1 FROM accounts_event e WHERE e.account_id = a.id AND e.name = %s "
            "AND e.occurred_at > %s AND e.occurred_at <= %s)",
            [feature, adapt(AS_OF - dt.timedelta(days=days)), adapt(AS_OF)]))
        idle = 10 + 2 * i
        specs.append((f"inactive-{i}", {"match": "all", "rules": [
            {"field": "days_since_last_activity", "op": "gt", "value": idle}]},
            "(SELECT MAX(e.occurred_at) FROM accounts_event e WHERE e.account_id = a.id AND e.occurred_at <= %s) "
            "<= %s", [adapt(AS_OF), adapt(AS_OF - dt.timedelta(days=idle + 1))]))
        window = 14 + 2 * i
        specs.append((f"usage-change-{i}", {"match": "all", "rules": [
            {"field": "usage_change_pct", "params": {"days": window}, "op": "lte", "value": -30}]},
            "a.id IN (SELECT account_id FROM (SELECT e.account_id, "
            "SUM(CASE WHEN e.occurred_at > %s THEN e.quantity ELSE 0 END) AS cur, "
            "SUM(CASE WHEN e.occurred_at <= %s THEN e.quantity ELSE 0 END) AS prev "
            "FROM accounts_event e WHERE e.name <> 'login' AND e.occurred_at > %s AND e.occurred_at <= %s "
            "GROUP BY e.account_id) w WHERE w.prev > 0 AND 100.0 * (w.cur - w.prev) / w.prev <= -30)",
            [adapt(AS_OF - dt.timedelta(days=window)), adapt(AS_OF - dt.timedelta(days=window)),
             adapt(AS_OF - dt.timedelta(days=2 * window)), adapt(AS_OF)]))
    return specs


def create_segments() -> None:
    from segments.services import segments_load

    specs = segment_specs()
    segments_load(data=[{"slug": slug, "name": slug, "conditions": c, "order": i}
                        for i, (slug, c, _, _) in enumerate(specs)])


def baseline() -> dict:
    """Hand-written INSERT ... SELECT per segment into a scratch table; return seconds per slug."""
    from django.db import connection, transaction

    times = {}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_baseline")
        cursor.execute("CREATE TABLE bench_baseline (slug VARCHAR(100), account_id BIGINT)")
    for slug, _, where, params in segment_specs():
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO bench_baseline (slug, account_id) SELECT %s, a.id FROM accounts_account a WHERE {where}",  # noqa: S608
                [slug, *params],
            )
        times[slug] = time.perf_counter() - started
    return times


def memberships_match() -> list[str]:
    """Return the slugs whose csbox membership differs from the baseline's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.slug FROM segments_segment s WHERE EXISTS ("
            " SELECT account_id FROM segments_accountmembership m WHERE m.segment_id = s.id"
            " EXCEPT SELECT account_id FROM bench_baseline b WHERE b.slug = s.slug)"
            " OR EXISTS (SELECT account_id FROM bench_baseline b WHERE b.slug = s.slug"
            " EXCEPT SELECT account_id FROM segments_accountmembership m WHERE m.segment_id = s.id)"
        )
        return [row[0] for row in cursor.fetchall()]


def refresh_in_child() -> dict:
    """Run the full refresh in a child process; return wall time, peak RSS and per-segment seconds."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--phase", "refresh"], check=True, capture_output=True,
                         text=True, env=os.environ.copy())
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": wall, "peak_mb": peak_mb, **json.loads(out.stdout.strip().splitlines()[-1])}


def phase_refresh() -> None:
    from segments.models import MembershipChange
    from segments.selectors import segments_in_refresh_order
    from segments.services import segment_refresh

    per_segment, changes_before = {}, MembershipChange.objects.count()
    started = time.perf_counter()
    for segment in segments_in_refresh_order():
        t0 = time.perf_counter()
        result = segment_refresh(segment=segment, as_of=AS_OF)
        if not result.ok:
            raise SystemExit(f"{segment.slug} failed: {result.error}")
        per_segment[segment.slug] = time.perf_counter() - t0
    total = time.perf_counter() - started
    print(json.dumps({"total": total, "per_segment": per_segment,
                      "changes": MembershipChange.objects.count() - changes_before}))


def preview_vs_count() -> tuple[float, float]:
    from django.db import connection

    from segments.selectors import segment_preview

    slug, conditions, where, params = segment_specs()[0]
    t0 = time.perf_counter()
    segment_preview(conditions=conditions, kind="account", sample=0)
    preview = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM accounts_account a WHERE {where}", params)  # noqa: S608
        cursor.fetchone()
    return preview, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="reuse the generated SQLite database")
    parser.add_argument("--phase", default="all", help=argparse.SUPPRESS)
    options = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_path = OUT / f"segments-{options.accounts}-{options.events}.sqlite3"
    if options.phase == "all" and not options.reuse and "DATABASE_URL" not in os.environ:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    _setup_django(db_path)
    if options.phase == "refresh":
        phase_refresh()
        return
    from django.core.management import call_command
    from django.db import connection

    if not options.reuse:
        call_command("flush", "--noinput", verbosity=0) if connection.vendor == "postgresql" else None
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        generate(accounts=options.accounts, users=options.users, events=options.events, seed=options.seed)
        print(f"generated {options.accounts:,} accounts, {options.users:,} users, {options.events:,} events "
              f"in {time.perf_counter() - t0:.1f} s ({connection.vendor})")
    from segments.models import AccountMembership, Segment

    Segment.objects.all().delete()
    create_segments()
    base = baseline()
    print(f"baseline INSERT ... SELECT, 50 segments: {sum(base.values()):.2f} s")
    first = refresh_in_child()
    print(f"csbox full refresh: {first['total']:.2f} s in-process ({first['wall']:.2f} s wall with start-up), "
          f"peak RSS {first['peak_mb']:.0f} MB, ratio {first['total'] / sum(base.values()):.2f}x baseline")
    slow = sorted(first["per_segment"].items(), key=lambda kv: -kv[1])[:5]
    print("slowest segments: " + ", ".join(f"{s} {t:.2f}s (baseline {base[s]:.2f}s)" for s, t in slow))
    mismatched = memberships_match()
    print(f"memberships identical to baseline: {not mismatched} {mismatched[:5]}")
    print(f"members in all segments: {AccountMembership.objects.count():,}")
    second = refresh_in_child()
    print(f"second refresh (nothing changed): {second['total']:.2f} s, membership changes logged: {second['changes']}")
    preview, count = preview_vs_count()
    print(f"preview count {preview * 1000:.0f} ms vs hand COUNT(*) {count * 1000:.0f} ms")


if __name__ == "__main__":
    main()
