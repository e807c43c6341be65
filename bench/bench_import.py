"""Time csbox's CSV import and export against django-import-export's default path and the bulk floors.

Usage (from the project root):

    .venv/bin/python bench/bench_import.py [--accounts 100000] [--events 1000000] [--sample 5000]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_import.py

Without DATABASE_URL a throwaway SQLite file under bench/out/ is used (removed
afterwards unless --keep). With DATABASE_URL the database must be a scratch
one: its customer data is deleted between the steps. Everything runs in one
go on the same database: the CSV files are generated (accounts with two
custom attributes, a user per account, events of which a third name a user),
then each step runs in a child process whose wall time and peak resident
memory (its own ru_maxrss) are reported:

- floors: plain csv + bulk_create of the same accounts (and on PostgreSQL COPY);
- django-import-export's default row-by-row import, on the first --sample rows
  (extrapolated to rows/s: it is too slow for the whole file);
- csbox import_csv: dry run and real import into an empty table, re-import of
  the unchanged file, an update of every row, the users, events (a tenth of
  the file, then the whole: memory must not grow with the file);
- the events floor: the same events loaded by a hand-written loader that trusts
  the file (csv.reader, two dicts of references, COPY / executemany);
- export of the accounts by csbox vs a streamed values_list().iterator() to CSV,
  with the query count for 10 rows and for all of them.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import resource
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAFF = 20
NAMES = ["login", "reports", "export", "dashboards", "api", "alerts", "integrations", "sso"]


# --- data ------------------------------------------------------------------------


def write_files(workdir: Path, *, accounts: int, events: int, sample: int, seed: int) -> dict[str, Path]:
    """Generate the CSV files of the run (deterministic for a seed)."""
    rnd = random.Random(seed)
    files = {name: workdir / f"{name}.csv" for name in
             ("staff", "custom_attributes", "accounts", "accounts_sample", "accounts_update", "users", "events",
              "events_tenth")}
    _write(files["staff"], ["username", "email", "role"],
           ([f"csm{n}", f"csm{n}@example.com", "csm"] for n in range(STAFF)))
    _write(files["custom_attributes"], ["key", "label", "type", "choices"],
           [["nps", "NPS", "number", ""], ["tier", "Tier", "choice", "gold|silver|bronze"]])
    header = ["external_id", "name", "domain", "industry", "region", "lifecycle_stage", "plan", "licenses",
              "employees", "mrr", "potential_arr", "renewal_date", "customer_since", "csm", "referenceable",
              "use_case", "custom.nps", "custom.tier"]
    rows = [_account(rnd, n) for n in range(accounts)]
    _write(files["accounts"], header, rows)
    _write(files["accounts_sample"], header, rows[:sample])
    _write(files["accounts_update"], header, ([*r[:9], f"{int(float(r[9])) + 1}.00", *r[10:]] for r in rows))
    _write(files["users"], ["external_id", "account", "email", "name", "role", "created_at"],
           ([f"U-{n:07}", f"A-{n:07}", f"user{n}@customer.test", f"User {n}", rnd.choice(["admin", "user"]),
             "2025-06-01T08:00:00Z"] for n in range(accounts)))
    start = dt.datetime(2026, 1, 1)
    for name, count in (("events", events), ("events_tenth", events // 10)):
        _write(files[name], ["account", "user", "name", "occurred_at", "quantity"],
               _events(random.Random(seed + count), count, accounts, start))
    return files


def _account(rnd: random.Random, n: int) -> list:
    mrr = rnd.randint(0, 50_000)
    return [
        f"A-{n:07}", f"Company {n}, Inc." if n % 10 == 0 else f"Company {n}", f"company{n}.test",
        rnd.choice(["Retail", "SaaS", "Health", "Finance"]), rnd.choice(["EMEA", "AMER", "APAC"]),
        rnd.choice(["trial", "onboarding", "nurturing", "renewal", "churned"]),
        rnd.choice(["starter", "business", "enterprise"]), rnd.randint(1, 500), rnd.randint(1, 10_000),
        f"{mrr}.{rnd.randint(0, 99):02}", f"{mrr * 24}.00",
        (dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randint(0, 700))).isoformat(),
        (dt.date(2018, 1, 1) + dt.timedelta(days=rnd.randint(0, 2000))).isoformat(),
        f"csm{rnd.randrange(STAFF)}", rnd.choice(["true", "false", ""]), rnd.choice(["analytics", "ops", ""]),
        rnd.randint(-100, 100), rnd.choice(["gold", "silver", "bronze", ""]),
    ]


def _events(rnd: random.Random, count: int, accounts: int, start: dt.datetime):
    for _ in range(count):
        n = rnd.randrange(accounts)
        user = f"U-{n:07}" if rnd.random() < 0.33 else ""
        moment = start + dt.timedelta(seconds=rnd.randrange(90 * 86400))
        yield [f"A-{n:07}", user, rnd.choice(NAMES), moment.isoformat() + "Z", rnd.randint(1, 5)]


def _write(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


# --- child processes ---------------------------------------------------------------


def run_child(args: list[str], env: dict) -> dict:
    """Run `bench_import.py child ARGS` (a manage.py command or a worker); return seconds, peak MiB, output."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "child", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")
    usage = re.search(r"^RUSAGE (\d+) ([0-9.]+) ([0-9.]+)$", done.stderr, re.M)
    return {"wall": seconds, "peak_mib": int(usage.group(1)) / 1024, "cpu": float(usage.group(2)),
            "server_cpu": float(usage.group(3)), "out": done.stdout}


def child(args: list[str]) -> None:
    """Inside the child: run manage.py ARGS (or a worker), then print its peak RSS and CPU seconds."""
    _watch_backends()
    try:
        if args[0] == "worker":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csbox.settings")
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            WORKERS[args[1]](*args[2:])
        else:
            sys.argv = ["manage.py", *args]
            runpy.run_path(str(ROOT / "manage.py"), run_name="__main__")
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"RUSAGE {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime:.3f} {_server_cpu():.3f}", file=sys.stderr)


_SERVER_CPU = [0.0]  # CPU seconds of the PostgreSQL backends this child closed


def _server_cpu() -> float:
    """CPU seconds of this child's PostgreSQL backends (a local server; 0 for SQLite or when unknown)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        _note_backend_cpu(connection)
    return _SERVER_CPU[0]


def _note_backend_cpu(wrapper) -> None:
    try:
        if wrapper.vendor == "postgresql" and wrapper.connection is not None:
            pid = wrapper.connection.info.backend_pid
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            _SERVER_CPU[0] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, AttributeError, IndexError, ValueError):
        pass  # a figure for the report, never a reason to fail


def _watch_backends() -> None:
    """Read each PostgreSQL backend's CPU time just before its connection closes (commands close them)."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    close = BaseDatabaseWrapper.close

    def close_noting_cpu(self):
        _note_backend_cpu(self)
        close(self)

    BaseDatabaseWrapper.close = close_noting_cpu


def engine_seconds(output: str) -> float:
    """The seconds import_csv reports in its summary line (without process start-up)."""
    return float(re.search(r" in ([0-9.]+) s", output).group(1))


# --- workers (run inside a child, Django set up) ---------------------------------------


def worker_reset(*tables: str) -> None:
    """Delete the customer data (all of it, or only the accounts and what hangs off them)."""
    from accounts.demo import customer_data_delete
    from accounts.models import Event

    if tables == ("events",):
        Event.objects.all().delete()
    else:
        customer_data_delete(batch_size=20_000)


def _csm_ids() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    return dict(get_user_model().objects.values_list("username", "pk"))


def _typed_accounts(path: str, csm: dict[str, int]):
    """The accounts file as Account keyword arguments (what a hand-written loader would do)."""
    from decimal import Decimal

    booleans = {"true": True, "false": False, "": None}
    with open(path, newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            custom = {"nps": int(row["custom.nps"])} | ({"tier": row["custom.tier"]} if row["custom.tier"] else {})
            yield {
                "external_id": row["external_id"], "name": row["name"], "domain": row["domain"],
                "industry": row["industry"], "region": row["region"], "lifecycle_stage": row["lifecycle_stage"],
                "plan": row["plan"], "licenses": int(row["licenses"]), "employees": int(row["employees"]),
                "mrr": Decimal(row["mrr"]), "potential_arr": Decimal(row["potential_arr"]),
                "renewal_date": dt.date.fromisoformat(row["renewal_date"]),
                "customer_since": dt.date.fromisoformat(row["customer_since"]), "csm_id": csm[row["csm"]],
                "referenceable": booleans[row["referenceable"]], "use_case": row["use_case"], "custom": custom,
            }


def worker_floor_bulk_create(path: str) -> None:
    """The floor: csv.DictReader + Account(...) + bulk_create in batches, one transaction."""
    from django.db import transaction

    from accounts.models import Account

    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic():
        batch = []
        for values in _typed_accounts(path, _csm_ids()):
            batch.append(Account(**values))
            if len(batch) == 5000:
                Account.objects.bulk_create(batch)
                batch = []
        Account.objects.bulk_create(batch)
    print(f"seconds {time.perf_counter() - started:.3f} cpu {time.process_time() - cpu:.3f}")


def worker_floor_copy(path: str) -> None:
    """PostgreSQL's floor: COPY of the same typed rows."""
    from django.db import connection, transaction
    from psycopg.types.json import Jsonb

    from accounts.models import Account

    fields = [f for f in Account._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    started, cpu = time.perf_counter(), time.process_time()
    statement = f"COPY accounts_account ({columns}) FROM STDIN"
    rows = _typed_accounts(path, _csm_ids())  # no query may run on the connection during COPY
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for values in rows:
            values["custom"] = Jsonb(values["custom"])
            copy.write_row([values.get(f.attname) for f in fields])  # derived fields (last_activity_at): NULL
    print(f"seconds {time.perf_counter() - started:.3f} cpu {time.process_time() - cpu:.3f}")


def worker_floor_events(path: str) -> None:
    """The events floor: csv.reader, references from two dicts, no validation; COPY or executemany.

    What a hand-written loader of trusted data does: one query per referenced
    table, then the rows straight in (one COPY on PostgreSQL, executemany in
    batches of 20,000 on SQLite), one transaction, commit included.
    """
    from django.db import connection, transaction

    from accounts.models import Account, EndUser

    started, cpu = time.perf_counter(), time.process_time()
    accounts = dict(Account.objects.values_list("external_id", "pk"))
    users = dict(EndUser.objects.values_list("external_id", "pk"))
    columns = "account_id, user_id, name, occurred_at, quantity"

    def rows():
        with open(path, newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            for account, user, name, occurred_at, quantity in reader:
                moment = dt.datetime.fromisoformat(occurred_at)
                if connection.vendor == "sqlite":
                    moment = moment.replace(tzinfo=None).isoformat(" ")
                yield accounts[account], users[user] if user else None, name, moment, int(quantity)

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY accounts_event ({columns}) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            statement = f"INSERT INTO accounts_event ({columns}) VALUES (%s, %s, %s, %s, %s)"
            batch = []
            for row in rows():
                batch.append(row)
                if len(batch) == 20_000:
                    cursor.executemany(statement, batch)
                    batch = []
            cursor.executemany(statement, batch)
    print(f"seconds {time.perf_counter() - started:.3f} cpu {time.process_time() - cpu:.3f}")


def worker_default_import(path: str) -> None:
    """django-import-export's default path: a ModelResource, row by row, in one transaction."""
    import tablib
    from django.contrib.auth import get_user_model
    from import_export import fields, resources, widgets

    from accounts.models import Account

    class DefaultAccountResource(resources.ModelResource):
        csm = fields.Field(attribute="csm", column_name="csm",
                           widget=widgets.ForeignKeyWidget(get_user_model(), "username"))

        class Meta:
            model = Account
            import_id_fields = ("external_id",)
            fields = ("external_id", "name", "domain", "industry", "region", "lifecycle_stage", "plan", "licenses",
                      "employees", "mrr", "potential_arr", "renewal_date", "customer_since", "csm", "referenceable",
                      "use_case")

    dataset = tablib.Dataset().load(Path(path).read_text(encoding="utf-8"), format="csv")
    started, cpu = time.perf_counter(), time.process_time()
    result = DefaultAccountResource().import_data(dataset, dry_run=False, use_transactions=True, raise_errors=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert not result.has_errors() and not result.has_validation_errors()
    print(f"seconds {seconds:.3f} cpu {cpu:.3f} rows {len(dataset)}")


def worker_export(path: str) -> None:
    """csbox's export vs a streamed values_list().iterator() written by csv.writer; query counts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.csvio.formats import format_get
    from accounts.csvio.services import csv_export, csv_export_chunks
    from accounts.models import Account

    paths = [c.path for c in format_get("accounts").columns] + ["custom"]
    started = time.perf_counter()
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(paths)
        writer.writerows(Account.objects.order_by("external_id").values_list(*paths).iterator(chunk_size=2000))
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    first = next(iter(csv_export_chunks(entity="accounts")))
    first_chunk = time.perf_counter() - started
    started = time.perf_counter()
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv_export(entity="accounts", out=out)
    csbox = time.perf_counter() - started
    counts = {}
    for label, queryset in (("10", Account.objects.filter(pk__in=Account.objects.order_by("pk")[:10].values("pk"))),
                            ("all", Account.objects.all())):
        with CaptureQueriesContext(connection) as captured, open(os.devnull, "w") as out:
            csv_export(entity="accounts", out=out, queryset=queryset)
        counts[label] = len(captured)
    print(json.dumps({"baseline": baseline, "csbox": csbox, "first_chunk": first_chunk, "queries": counts,
                      "first_bytes": len(first)}))


WORKERS = {
    "reset": worker_reset,
    "floor_bulk_create": worker_floor_bulk_create,
    "floor_copy": worker_floor_copy,
    "floor_events": worker_floor_events,
    "default_import": worker_default_import,
    "export": worker_export,
}


# --- the run ---------------------------------------------------------------------------


class Bench:
    def __init__(self, env: dict, files: dict[str, Path], workdir: Path):
        self.env, self.files, self.workdir = env, files, workdir
        self.results: dict[str, dict] = {}

    def manage(self, *args: str) -> dict:
        return run_child([*args, "--skip-checks"], self.env)

    def worker(self, name: str, *args: str) -> dict:
        return run_child(["worker", name, *args], self.env)

    startup_cpu = 0.0  # CPU seconds of a child that imports nothing (Python and Django start-up)

    def record(self, label: str, rows: int, outcome: dict, *, worker: bool = False) -> None:
        """Note a step: its own seconds (without start-up), its CPU seconds and the child's peak memory."""
        if worker:
            figures = dict(zip(*[iter(outcome["out"].split())] * 2, strict=True))
            seconds, cpu = float(figures["seconds"]), float(figures["cpu"])
        else:
            seconds, cpu = engine_seconds(outcome["out"]), outcome["cpu"] - self.startup_cpu
        server = outcome["server_cpu"]
        self.results[label] = {"rows": rows, "seconds": seconds, "cpu": cpu, "server_cpu": server,
                               "wall": outcome["wall"], "peak_mib": outcome["peak_mib"], "rows_per_s": rows / seconds}
        print(f"  {label:<46} {rows:>9,} rows {seconds:8.2f} s {cpu:8.2f} s CPU"
              + (f" {server:7.2f} s server CPU" if server else "")
              + f" {rows / seconds:>9,.0f} rows/s  peak {outcome['peak_mib']:.0f} MiB", flush=True)

    def import_csv(self, label: str, entity: str, file: str, rows: int, *extra: str) -> None:
        outcome = self.manage("import_csv", entity, str(self.files[file]), *extra)
        self.record(label, rows, outcome)

    def measure_startup(self) -> None:
        empty = self.workdir / "header_only.csv"
        empty.write_text("external_id,name\n")
        self.startup_cpu = self.manage("import_csv", "accounts", str(empty))["cpu"]


def run(options) -> dict:
    env = {"SECRET_KEY": "bench-only", **os.environ, "DEBUG": "0"}
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="import-", dir=ROOT / "bench" / "out"))
    if "DATABASE_URL" not in env:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    vendor = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    print(f"database: {env['DATABASE_URL']} ({vendor})", flush=True)
    files = write_files(workdir, accounts=options.accounts, events=options.events, sample=options.sample,
                        seed=options.seed)
    bench = Bench(env, files, workdir)
    n, sample = options.accounts, min(options.sample, options.accounts)
    bench.manage("migrate", "--noinput", "-v", "0")
    bench.worker("reset")
    bench.manage("import_csv", "staff", str(files["staff"]))
    bench.manage("import_csv", "custom_attributes", str(files["custom_attributes"]))
    bench.measure_startup()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; seconds are the step's own, CPU "
          "seconds the child's minus start-up; on PostgreSQL the server CPU is the child's backend process"
          " (read from /proc)", flush=True)

    print("accounts", flush=True)
    bench.record("floor: csv + bulk_create", n, bench.worker("floor_bulk_create", str(files["accounts"])), worker=True)
    bench.worker("reset")
    if vendor == "postgresql":
        bench.record("floor: csv + COPY", n, bench.worker("floor_copy", str(files["accounts"])), worker=True)
        bench.worker("reset")
    outcome = bench.worker("default_import", str(files["accounts_sample"]))
    bench.record(f"django-import-export default ({sample:,}-row sample)", sample, outcome, worker=True)
    bench.worker("reset")
    bench.import_csv("csbox import_csv --dry-run (empty table)", "accounts", "accounts", n, "--dry-run")
    bench.import_csv("csbox import_csv (empty table)", "accounts", "accounts", n)
    bench.import_csv("csbox re-import, unchanged", "accounts", "accounts", n)
    bench.import_csv("csbox import, every row updated", "accounts", "accounts_update", n)

    print("export", flush=True)
    outcome = bench.worker("export", str(workdir / "export.csv"))
    export = json.loads(outcome["out"])
    bench.results["export"] = export | {"peak_mib": outcome["peak_mib"]}
    print(f"  values_list().iterator() + csv.writer {export['baseline']:.2f} s, "
          f"csbox csv_export {export['csbox']:.2f} s "
          f"(first {export['first_bytes']:,} bytes after {export['first_chunk'] * 1000:.0f} ms), queries for 10 rows "
          f"{export['queries']['10']}, for all {export['queries']['all']}", flush=True)

    print("users and events", flush=True)
    bench.import_csv("csbox import_csv users", "users", "users", n)
    bench.import_csv("csbox import_csv events (a tenth)", "events", "events_tenth", options.events // 10)
    bench.worker("reset", "events")
    floor = "floor: csv + " + ("COPY" if vendor == "postgresql" else "executemany") + " (events)"
    bench.record(floor, options.events, bench.worker("floor_events", str(files["events"])), worker=True)
    bench.worker("reset", "events")
    bench.import_csv("csbox import_csv events", "events", "events", options.events)
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    if not options.keep:
        shutil.rmtree(workdir)
    return bench.results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5_000, help="rows for django-import-export's default path")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated files (and the SQLite database)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    options = parser.parse_args()
    results = run(options)
    if options.json:
        Path(options.json).write_text(json.dumps(results, indent=2))
    summarise(results)


def summarise(results: dict) -> None:
    """Print the ratios the issue's targets are about, from seconds and from CPU seconds."""
    imported = results["csbox import_csv (empty table)"]
    default = next(v for k, v in results.items() if k.startswith("django-import-export"))
    floor = results["floor: csv + bulk_create"]
    export = results["export"]

    def ratio(a: dict, b: dict, *, per_row: bool = False) -> str:
        if per_row:  # how many times faster a is than b per row
            wall = b["seconds"] / b["rows"] * a["rows"] / a["seconds"]
            cpu = b["cpu"] / b["rows"] * a["rows"] / a["cpu"]
            return f"{wall:.1f}x ({cpu:.1f}x CPU)"
        return f"{a['seconds'] / b['seconds']:.2f}x ({a['cpu'] / b['cpu']:.2f}x CPU)"

    print("targets (seconds, and CPU seconds: steadier on a busy machine)")
    print(f"  import vs default path: {ratio(imported, default, per_row=True)} faster per row (>= 10x)")
    print(f"  import vs bulk_create floor: {ratio(imported, floor)} the floor's time (<= 2x)")
    reimport, dry = results["csbox re-import, unchanged"], results["csbox import_csv --dry-run (empty table)"]
    print(f"  re-import unchanged: {ratio(reimport, imported)} the first import (<= 0.5x)")
    print(f"  dry run: {ratio(dry, imported)} the real import (<= 1.2x)")
    events = results["csbox import_csv events"]
    events_floor = next(v for k, v in results.items() if k.startswith("floor:") and k.endswith("(events)"))
    print(f"  events: {events['rows_per_s']:,.0f} rows/s (>= 50,000); the floor without checks "
          f"{events_floor['rows_per_s']:,.0f} rows/s ({events['seconds'] / events_floor['seconds']:.2f}x its time)")
    print(f"  export: {export['csbox'] / export['baseline']:.2f}x values_list().iterator() (<= 2x), "
          f"queries 10 rows {export['queries']['10']} / all {export['queries']['all']}")
    print(f"  peak memory: accounts import {imported['peak_mib']:.0f} MiB (<= 150), events a tenth "
          f"{results['csbox import_csv events (a tenth)']['peak_mib']:.0f} MiB vs all "
          f"{results['csbox import_csv events']['peak_mib']:.0f} MiB (flat)")


if __name__ == "__main__":
    main()
