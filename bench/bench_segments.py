"""Benchmark the segment refresh against hand-written INSERT ... SELECT, same database, same run.

Usage (from the project root; DATABASE_URL selects PostgreSQL, default a
throwaway SQLite file under bench/out/):

    .venv/bin/python bench/bench_segments.py --accounts 100000 --users 1000000 --events 10000000
    .venv/bin/python bench/bench_segments.py --accounts 10000 --users 100000 --events 1000000   # quick

It generates accounts, subscriptions, end users and events (90 days) -- users
and events set-based in SQL (generate_series / a recursive CTE), deterministic
by seed, the event indexes built after the load -- 50 segments mixing
attribute, subscription, feature-recency, inactivity and usage-change rules,
then reports:

- the hand-written baseline: one `INSERT INTO ... SELECT` per segment;
- csbox's full refresh (`segments_refresh_all` in a child process: its time,
  the shared aggregate pass, each segment's time, the longest apply
  transaction -- on SQLite the only write lock a refresh takes -- membership
  rows written and the child's own peak RSS);
- a second refresh in which nothing changed (membership rows written);
- preview count vs a hand-written COUNT(*), and the load average;
and checks that every membership equals the baseline's. `--json FILE` keeps
every figure; `--reuse` skips the generation (same sizes, same database).
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


def _mix(i: str, seed: int, salt: int) -> str:
    """SQL for a deterministic pseudo-random integer in [0, 2**24) from row number `i` (same on both databases).

    Two multiplicative-hash rounds modulo 2**32 (every product stays below
    2**63), keeping the better high bits.
    """
    first = f"(({i}) * 2654435761 + {(seed * 97 + salt * 1013904223) % 2**32}) % 4294967296"
    return f"(((({first}) * 1597334677 + {salt * 7919}) % 4294967296) / 256)"


def _numbers(lo: int, hi: int) -> str:
    """A FROM clause yielding column i = lo..hi."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"generate_series({lo}, {hi}) AS seq(i)"
    return (f"(WITH RECURSIVE seq(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM seq WHERE i < {hi}) "
            "SELECT i FROM seq) AS seq")


def _timestamp(seconds_before_as_of: str) -> str:
    from django.db import connection

    epoch = int(AS_OF.timestamp())
    if connection.vendor == "postgresql":
        return f"to_timestamp({epoch} - ({seconds_before_as_of}))"
    return f"datetime({epoch} - ({seconds_before_as_of}), 'unixepoch')"


def _padded(prefix: str, i: str, width: int) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"'{prefix}' || lpad(({i})::text, {width}, '0')"
    return f"printf('{prefix}%0{width}d', {i})"


def _event_select(*, accounts: int, users: int, seed: int) -> str:
    """SELECT of the events' columns for row numbers seq.i: set-based, deterministic by seed."""
    user = f"(1 + {_mix('i', seed, 1)} % {users})"
    account = f"(1 + {user} % {accounts})"
    day = 86400
    spread = f"({_mix('i', seed, 2)} % {90 * day})"
    # Some accounts decline sharply (fade 1), some are dormant for the last 30 days (fade 0).
    offset = (f"CASE WHEN {account} % 7 = 0 THEN {30 * day} + {_mix('i', seed, 2)} % {60 * day} "
              f"WHEN {account} % 7 = 1 AND {spread} < {30 * day} AND {_mix('i', seed, 3)} % 10 < 7 "
              f"THEN {spread} + {30 * day} ELSE {spread} END")
    features = " ".join(f"WHEN {n} THEN '{f}'" for n, f in enumerate(FEATURES))
    name = f"CASE WHEN {_mix('i', seed, 4)} % 10 < 4 THEN 'login' ELSE CASE {_mix('i', seed, 5)} % 6 {features} END END"
    return (f"SELECT {account}, {user}, {name}, {_timestamp(offset)}, 1 + {_mix('i', seed, 6)} % 5 "
            f"FROM {{numbers}}")


def generate(*, accounts: int, users: int, events: int, seed: int) -> None:
    """Write the synthetic data set: accounts in Python, users and events set-based in SQL.

    The event indexes are dropped during the load and built afterwards (one
    sort instead of 10M random B-tree inserts).
    """
    from django.db import connection, transaction

    from accounts.models import Event

    rng = random.Random(seed)
    with transaction.atomic():
        _insert("accounts_account", ("id", "external_id", "name", "domain", "industry", "region", "lifecycle_stage",
                                     "plan", "licenses", "mrr", "use_case", "custom"),
                ((i, f"A-{i:07d}", f"Account {i}", "", "", rng.choice(("EMEA", "NA", "APAC")), rng.choice(STAGES),
                  rng.choice(PLANS), rng.randint(1, 200), round(rng.lognormvariate(7, 1.2), 2), "", "{}")
                 for i in range(1, accounts + 1)))
        _insert("accounts_subscription", ("id", "external_id", "account_id", "plan", "status", "billing_period"),
                ((i, f"S-{i:07d}", i, rng.choice(PLANS), rng.choice(STATUSES), "annual")
                 for i in range(1, accounts + 1)))
        role = f"CASE WHEN {_mix('i', seed, 7)} % 4 = 0 THEN 'admin' ELSE 'user' END"
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_enduser (id, external_id, account_id, email, name, role, created_at) "  # noqa: S608
                f"SELECT i, {_padded('U-', 'i', 8)}, 1 + i % {accounts}, '', '', {role}, NULL "
                f"FROM {_numbers(1, users)}"
            )
    indexes = Event._meta.indexes
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(Event, index)
    select = _event_select(accounts=accounts, users=users, seed=seed)
    chunk = 1_000_000
    for lo in range(1, events + 1, chunk):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_event (account_id, user_id, name, occurred_at, quantity) "  # noqa: S608
                + select.format(numbers=_numbers(lo, min(lo + chunk - 1, events)))
            )
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(Event, index)
    with connection.cursor() as cursor:
        # As autovacuum would have left a table loaded long ago (index-only scans need the visibility map).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


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
    """Run the full refresh in a child process; return its figures (and wall time with start-up)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--phase", "refresh"], check=True, capture_output=True,
                         text=True, env=os.environ.copy())
    wall = time.perf_counter() - started
    return {"wall": wall, **json.loads(out.stdout.strip().splitlines()[-1])}


def phase_refresh() -> None:
    """`segments_refresh_all` as the nightly job runs it, timed per segment and per apply transaction."""
    from segments import services, shared_metrics
    from segments.models import MembershipChange

    per_segment, applies, shared = {}, [], []
    refresh, apply, build = services.segment_refresh, services._apply_new_members, shared_metrics.MetricSource.build

    def timed_refresh(*, segment, **kwargs):
        t0 = time.perf_counter()
        result = refresh(segment=segment, **kwargs)
        per_segment[segment.slug] = time.perf_counter() - t0
        return result

    def timed_apply(**kwargs):
        # The only write transaction of a refresh: on SQLite, how long it holds the lock.
        t0 = time.perf_counter()
        result = apply(**kwargs)
        applies.append(time.perf_counter() - t0)
        return result

    def timed_build(self):
        t0 = time.perf_counter()
        build(self)
        shared.append(time.perf_counter() - t0)

    services.segment_refresh, services._apply_new_members = timed_refresh, timed_apply
    shared_metrics.MetricSource.build = timed_build
    changes_before = MembershipChange.objects.count()
    started = time.perf_counter()
    results = services.segments_refresh_all(as_of=AS_OF)
    total = time.perf_counter() - started
    failed = [f"{r.slug}: {r.error}" for r in results if not r.ok]
    if failed:
        raise SystemExit("; ".join(failed))
    print(json.dumps({
        "total": total, "per_segment": per_segment, "shared_pass": sum(shared),
        "longest_apply": max(applies), "rows_written": sum(r.joined + r.left for r in results),
        "changes": MembershipChange.objects.count() - changes_before,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


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
    parser.add_argument("--reuse", action="store_true", help="reuse the generated data (same sizes)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--rounds", type=int, default=0,
                        help="then N alternations of baseline and nothing-changed refresh (same-load pairs)")
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
    figures = run(options)
    if options.json:
        Path(options.json).write_text(json.dumps(figures, indent=2))


def alternate() -> dict:
    """One baseline then one nothing-changed refresh, back to back: a ratio at (nearly) the same load."""
    base = sum(baseline().values())
    refresh = refresh_in_child()
    pair = {"baseline": base, "refresh": refresh["total"], "shared_pass": refresh["shared_pass"],
            "rows_written": refresh["rows_written"], "ratio": refresh["total"] / base, "load": os.getloadavg()[0]}
    print(f"round: baseline {base:.2f} s, nothing-changed refresh {refresh['total']:.2f} s "
          f"(shared pass {refresh['shared_pass']:.2f} s, {refresh['rows_written']} rows written): "
          f"{pair['ratio']:.2f}x, load {pair['load']:.1f}", flush=True)
    return pair


def run(options) -> dict:
    """Generate (unless --reuse), run baseline and refreshes, print and return the figures."""
    from django.core.management import call_command
    from django.db import connection

    figures = {"accounts": options.accounts, "users": options.users, "events": options.events,
               "load_before": os.getloadavg()}
    if not options.reuse:
        call_command("flush", "--noinput", verbosity=0) if connection.vendor == "postgresql" else None
        call_command("migrate", verbosity=0)
        t0 = time.perf_counter()
        generate(accounts=options.accounts, users=options.users, events=options.events, seed=options.seed)
        figures["generate"] = time.perf_counter() - t0
        print(f"generated {options.accounts:,} accounts, {options.users:,} users, {options.events:,} events "
              f"in {figures['generate']:.1f} s ({connection.vendor})", flush=True)
    from segments.models import AccountMembership, Segment

    Segment.objects.all().delete()
    create_segments()
    base = baseline()
    figures.update(database=connection.vendor, baseline=sum(base.values()), baseline_per_segment=base)
    print(f"baseline INSERT ... SELECT, 50 segments: {figures['baseline']:.2f} s", flush=True)
    first = figures["first"] = refresh_in_child()
    figures["ratio"] = first["total"] / figures["baseline"]
    print(f"csbox full refresh: {first['total']:.2f} s in-process ({first['wall']:.2f} s wall with start-up; "
          f"shared pass {first['shared_pass']:.2f} s), peak RSS {first['peak_mb']:.0f} MB, "
          f"ratio {figures['ratio']:.2f}x baseline, longest apply transaction {first['longest_apply']:.3f} s, "
          f"{first['rows_written']:,} membership rows written", flush=True)
    slow = sorted(first["per_segment"].items(), key=lambda kv: -kv[1])[:5]
    print("slowest segments: " + ", ".join(f"{s} {t:.2f}s (baseline {base[s]:.2f}s)" for s, t in slow))
    figures["mismatched"] = memberships_match()
    print(f"memberships identical to baseline: {not figures['mismatched']} {figures['mismatched'][:5]}")
    figures["members"] = AccountMembership.objects.count()
    print(f"members in all segments: {figures['members']:,}")
    second = figures["second"] = refresh_in_child()
    print(f"second refresh (nothing changed): {second['total']:.2f} s ({second['total'] / figures['baseline']:.2f}x), "
          f"membership rows written: {second['rows_written']}, changes logged: {second['changes']}, "
          f"longest apply transaction {second['longest_apply']:.3f} s, peak RSS {second['peak_mb']:.0f} MB")
    figures["rounds"] = [alternate() for _ in range(options.rounds)]
    preview, count = preview_vs_count()
    figures.update(preview_ms=preview * 1000, count_ms=count * 1000, load_after=os.getloadavg())
    print(f"preview count {preview * 1000:.0f} ms vs hand COUNT(*) {count * 1000:.0f} ms; "
          f"load average {figures['load_before'][0]:.1f} -> {figures['load_after'][0]:.1f}")
    return figures


if __name__ == "__main__":
    main()
