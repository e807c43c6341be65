"""Time `seed_demo` and measure its peak memory on a fresh database.

Usage (from the project root):

    .venv/bin/python bench/bench_seed.py --accounts 100000
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_seed.py --accounts 100000

Without DATABASE_URL a throwaway SQLite file under bench/out/ is used (and
removed afterwards unless --keep). The database is migrated, then
`seed_demo` runs in a child process whose wall time and peak resident
memory (ru_maxrss) are printed, with the rows written and the database size.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--anchor", default="2026-06-01")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database")
    options = parser.parse_args()

    # DEBUG off as in production (a throwaway key: nothing is signed here).
    env = {"SECRET_KEY": "bench-only", **os.environ, "DEBUG": "0"}
    workdir = None
    if "DATABASE_URL" not in env:
        (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="seed-", dir=ROOT / "bench" / "out"))
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    print(f"database: {env['DATABASE_URL']}")
    _manage(["migrate", "--noinput", "-v", "0"], env)
    started = time.perf_counter()
    result = _manage(
        ["seed_demo", "--accounts", str(options.accounts), "--seed", str(options.seed), "--anchor", options.anchor],
        env,
    )
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mib = usage.ru_maxrss / 1024
    lines = result.stdout.strip().splitlines()
    print(lines[-3])  # the counts
    print(lines[-1])  # customer data vs other apps' demo extensions
    # CPU time of the Python side (migrate included) stays comparable on a busy machine; wall time does not.
    cpu = usage.ru_utime + usage.ru_stime
    print(f"seed_demo --accounts {options.accounts}: {seconds:.1f} s wall, {cpu:.1f} s CPU (Python), "
          f"peak RSS {peak_mib:.0f} MiB")
    if workdir:
        size = sum(f.stat().st_size for f in workdir.iterdir())
        print(f"SQLite files: {size / 2**20:.0f} MiB")
        if not options.keep:
            shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
