"""Benchmark nightly health scoring against hand-written SQL, same database, same run.

Usage (from the project root; DATABASE_URL selects PostgreSQL, default a
SQLite file under bench/out/, kept for the next run with --reuse):

    .venv/bin/python bench/bench_health.py --accounts 100000
    .venv/bin/python bench/bench_health.py --accounts 5000 --rounds 1          # quick
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_health.py --accounts 100000

Steps, each in a child process that reports its wall time and peak RSS:

1. seed: `accounts.demo.demo_seed` (realistic accounts, end users, events,
   touchpoints, tickets, custom attributes), no demo extensions, then ANALYZE;
2. configure: the default config with 6 parameters of 5 kinds (license
   utilisation, logins, feature usage, open tickets, days since the last QBR,
   NPS custom attribute);
3. alternately, `rounds` times: csbox's `health_score_all` (the nightly
   step: writes the day's rows) and a hand-written query computing the same
   scores, labels and details with GROUP BY aggregates into a table;
4. check that both give every account the same score, label and details.
"""

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
ANCHOR = dt.date(2026, 6, 1)
AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
HAND_TABLE = "bench_hand_scores"
# (pillar, field, params, direction, good, poor, weight)
PARAMETERS = (
    ("product_adoption", "license_utilization_pct", {"days": 30}, "higher", 70, 10, 3),
    ("engagement", "logins", {"days": 30}, "higher", 40, 2, 2),
    ("product_adoption", "usage", {"days": 30, "feature": "reports"}, "higher", 60, 0, 1),
    ("support", "open_tickets", {}, "lower", 0, 4, 1),
    ("relationship", "days_since_last_touchpoint", {"kind": "qbr"}, "lower", 100, 200, 2),
    ("relationship", "custom.nps", {}, "higher", 9, 5, 1),
)


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csbox.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Child steps -------------------------------------------------------------------------------


def step_seed(accounts: int) -> dict:
    from django.db import connection

    from accounts.demo import demo_seed

    summary = demo_seed(accounts=accounts, seed=42, anchor=ANCHOR)
    with connection.cursor() as cursor:
        # As autovacuum would soon: statistics, and on PostgreSQL the visibility map (index-only scans).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {"accounts": summary.accounts, "end_users": summary.end_users, "events": summary.events,
            "touchpoints": summary.touchpoints, "tickets": summary.tickets}


def step_configure() -> dict:
    from health.models import HealthConfig, HealthParameter

    config = HealthConfig.objects.get(segment__isnull=True)
    config.parameters.all().delete()
    HealthParameter.objects.bulk_create([
        HealthParameter(config=config, pillar=pillar, field=key, params=params, direction=direction, good=good,
                        poor=poor, weight=weight, position=n)
        for n, (pillar, key, params, direction, good, poor, weight) in enumerate(PARAMETERS)
    ])
    for parameter in config.parameters.all():
        parameter.full_clean()
    return {"config": config.pk, "parameters": config.parameters.count()}


def step_orm() -> dict:
    from health.services import health_score_all

    result = health_score_all(as_of=AS_OF)
    return {"scored": result.scored, "missing": result.missing}


def step_hand() -> dict:
    from django.db import connection

    from health.models import HealthConfig

    parameter_ids = list(HealthConfig.objects.get(segment__isnull=True).parameters.values_list("pk", flat=True))
    sql, params = hand_sql(vendor=connection.vendor, parameter_ids=parameter_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {HAND_TABLE}")
        cursor.execute(f"CREATE TABLE {HAND_TABLE} AS {sql}", params)
        cursor.execute(f"SELECT COUNT(*) FROM {HAND_TABLE}")
        return {"scored": cursor.fetchone()[0]}


def step_verify() -> dict:
    from django.db import connection

    from health.models import HealthScore

    hand = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT account_id, score, score_exact, label, details FROM {HAND_TABLE}")
        for account_id, score, exact, label, details in cursor.fetchall():
            hand[account_id] = (score, exact, label, json.loads(details) if isinstance(details, str) else details)
    orm = {a: (s, e, lbl, d) for a, s, e, lbl, d in HealthScore.objects.filter(date=ANCHOR).values_list(
        "account_id", "score", "score_exact", "label", "details")}
    differ = [a for a in orm.keys() | hand.keys() if not _same(orm.get(a), hand.get(a))]
    labels = {}
    for _, _, label, _ in orm.values():
        labels[label or "missing"] = labels.get(label or "missing", 0) + 1
    return {"orm_rows": len(orm), "hand_rows": len(hand), "differences": len(differ), "examples": differ[:5],
            "labels": labels}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    (score_a, exact_a, label_a, details_a), (score_b, exact_b, label_b, details_b) = a, b
    if (score_a, label_a) != (score_b, label_b) or (exact_a is None) != (exact_b is None):
        return False
    if exact_a is not None and abs(exact_a - exact_b) > 1e-9:
        return False
    return {k: [None if x is None else round(float(x), 4) for x in v] for k, v in details_a.items()} == \
        {k: [None if x is None else round(float(x), 4) for x in v] for k, v in details_b.items()}


STEPS = {"seed": step_seed, "configure": step_configure, "orm": step_orm, "hand": step_hand, "verify": step_verify}


# The hand-written baseline ---------------------------------------------------------------------


def hand_sql(*, vendor: str, parameter_ids: list[int]) -> tuple[str, list]:
    """The 6 parameters' values with one GROUP BY per metric, joined to accounts, scored as csbox does.

    Written the way one would by hand for these six parameters: aggregates
    over the window instead of correlated subqueries, thresholds inlined.
    """
    pg = vendor == "postgresql"
    since, as_of = AS_OF - dt.timedelta(days=30), AS_OF
    db = _db_datetime(vendor)
    if pg:
        days_since = "CAST(FLOOR(EXTRACT(EPOCH FROM (%s - q.latest)) / 86400) AS INTEGER)"
        nps = ("CASE WHEN jsonb_typeof(a.custom -> 'nps') = 'number' "
               "THEN CAST(a.custom ->> 'nps' AS DOUBLE PRECISION) END")
        as_of_param = as_of
    else:
        days_since = "((%s - CAST(strftime('%%s', substr(q.latest, 1, 19)) AS INTEGER) * 1000000) / 86400000000)"
        nps = ("CASE WHEN json_type(a.custom, '$.nps') IN ('integer', 'real') "
               "THEN CAST(json_extract(a.custom, '$.nps') AS REAL) END")
        as_of_param = int(as_of.timestamp()) * 1_000_000
    values = f"""
        SELECT a.id AS aid,
          100.0 * COALESCE(au.n, 0) / NULLIF(a.licenses, 0) AS p0,
          CAST(COALESCE(ev.logins, 0) AS DOUBLE PRECISION) AS p1,
          CAST(COALESCE(ev.reports, 0) AS DOUBLE PRECISION) AS p2,
          CAST(COALESCE(t.n, 0) AS DOUBLE PRECISION) AS p3,
          CAST({days_since} AS DOUBLE PRECISION) AS p4,
          {nps} AS p5
        FROM accounts_account a
        LEFT JOIN (SELECT u.account_id, COUNT(*) AS n FROM accounts_enduser u
                   WHERE (u.created_at IS NULL OR u.created_at <= %s)
                     AND EXISTS (SELECT 1 FROM accounts_event e WHERE e.user_id = u.id
                                 AND e.occurred_at > %s AND e.occurred_at <= %s)
                   GROUP BY u.account_id) au ON au.account_id = a.id
        LEFT JOIN (SELECT e.account_id,
                     SUM(CASE WHEN e.name = 'login' THEN e.quantity ELSE 0 END) AS logins,
                     SUM(CASE WHEN e.name = 'reports' THEN e.quantity ELSE 0 END) AS reports
                   FROM accounts_event e WHERE e.occurred_at > %s AND e.occurred_at <= %s
                   GROUP BY e.account_id) ev ON ev.account_id = a.id
        LEFT JOIN (SELECT k.account_id, COUNT(*) AS n FROM accounts_supportticket k
                   WHERE k.opened_at <= %s AND (k.closed_at > %s OR (k.closed_at IS NULL AND k.status = 'open'))
                   GROUP BY k.account_id) t ON t.account_id = a.id
        LEFT JOIN (SELECT tp.account_id, MAX(tp.occurred_at) AS latest FROM accounts_touchpoint tp
                   WHERE tp.kind = 'qbr' AND tp.occurred_at <= %s GROUP BY tp.account_id) q ON q.account_id = a.id
    """  # noqa: S608 - fixed SQL
    params = [as_of_param, db(as_of), db(since), db(as_of), db(since), db(as_of), db(as_of), db(as_of), db(as_of)]
    scores = ", ".join(f"v.p{i}, {_hand_score(f'v.p{i}', p)} AS s{i}" for i, p in enumerate(PARAMETERS))
    weights = [p[6] for p in PARAMETERS]
    total = " + ".join(f"COALESCE(s.s{i} * {w}.0, 0.0)" for i, w in enumerate(weights))
    weight_sum = " + ".join(f"CASE WHEN s.s{i} IS NULL THEN 0.0 ELSE {w}.0 END" for i, w in enumerate(weights))
    rounded = "ROUND(CAST({} AS NUMERIC), 4)" if pg else "ROUND({}, 4)"
    build, array = ("jsonb_build_object", "jsonb_build_array") if pg else ("json_object", "json_array")
    details = ", ".join(f"'{pk}', {array}({rounded.format(f'w.p{i}')}, {rounded.format(f'w.s{i}')})"
                        for i, pk in enumerate(parameter_ids))
    floor = "CAST(FLOOR(w.exact + 0.500000001) AS INTEGER)" if pg else "CAST(w.exact + 0.500000001 AS INTEGER)"
    fence = "OFFSET 0" if pg else "LIMIT -1 OFFSET 0"
    sql = f"""
        SELECT w.aid AS account_id, {floor} AS score, w.exact AS score_exact,
          CASE WHEN w.exact IS NULL THEN '' WHEN w.exact + 0.500000001 >= 70 THEN 'good'
               WHEN w.exact + 0.500000001 < 40 THEN 'poor' ELSE 'average' END AS label,
          {build}({details}) AS details
        FROM (SELECT s.*, ({total}) / NULLIF({weight_sum}, 0.0) AS exact
              FROM (SELECT v.aid, {scores} FROM ({values} {fence}) v) s) w
    """  # noqa: S608 - fixed SQL
    return sql, params


def _hand_score(value: str, parameter: tuple) -> str:
    _, _, _, direction, good, poor, _ = parameter
    if direction == "higher":
        return (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} >= {good} THEN 100.0 WHEN {value} <= {poor} "
                f"THEN 0.0 ELSE 100.0 * ({value} - {poor}.0) / {good - poor}.0 END")
    return (f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} <= {good} THEN 100.0 WHEN {value} >= {poor} "
            f"THEN 0.0 ELSE 100.0 * ({poor}.0 - {value}) / {poor - good}.0 END")


def _db_datetime(vendor: str):
    from django.db import connection

    return connection.ops.adapt_datetimefield_value


# The parent: run the steps in children and report ----------------------------------------------


def _child(step: str, options) -> dict:
    env = {**os.environ, "DEBUG": "0"}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--step", step, "--accounts", str(options.accounts)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    if completed.returncode:
        sys.exit(f"step {step} failed:\n{completed.stderr[-4000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    report["wall_s"] = round(seconds, 2)
    return report


def _run_step(step: str, accounts: int) -> None:
    _django()
    baseline = _rss_mib()
    started = time.perf_counter()
    result = STEPS[step](accounts) if step == "seed" else STEPS[step]()
    result.update(step_s=round(time.perf_counter() - started, 3), peak_rss_mib=round(_rss_mib(), 1),
                  rss_growth_mib=round(_rss_mib() - baseline, 1))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="reuse an already seeded SQLite file")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.step:
        _run_step(options.step, options.accounts)
        return
    if "DATABASE_URL" not in os.environ:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"health-{options.accounts}.sqlite3"
        if not options.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    print(f"database: {os.environ['DATABASE_URL']}", flush=True)
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-only"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ["SECRET_KEY"] = "bench-only"  # noqa: S105 - nothing is signed in a benchmark
    if not options.reuse:
        print("seed:", _child("seed", options), flush=True)
    print("configure:", _child("configure", options), flush=True)
    results = {"orm": [], "hand": []}
    for _ in range(options.rounds):
        for step in ("hand", "orm"):
            report = _child(step, options)
            results[step].append(report)
            print(f"{step}:", report, flush=True)
    print("verify:", _child("verify", options), flush=True)
    best = {step: min(r["step_s"] for r in reports) for step, reports in results.items()}
    peak = {step: max(r["peak_rss_mib"] for r in reports) for step, reports in results.items()}
    print(f"best of {options.rounds}: csbox {best['orm']:.2f} s (peak RSS {peak['orm']:.0f} MiB), hand-written SQL "
          f"{best['hand']:.2f} s (peak RSS {peak['hand']:.0f} MiB): ratio {best['orm'] / best['hand']:.2f}")


if __name__ == "__main__":
    main()
