"""Time the server side of the CSM pages against Django's stock admin changelist, same database, same run.

Usage (from the project root; DATABASE_URL selects PostgreSQL, default an
SQLite file under bench/out/, kept for the next run with --reuse):

    .venv/bin/python bench/bench_views.py --accounts 100000
    .venv/bin/python bench/bench_views.py --accounts 100000 --reuse      # skip seeding
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_views.py --accounts 100000

The database gets `seed_demo` (accounts with users, 90 days of events...)
and one `nightly` run (segments refreshed, health scored). Each page is
requested with Django's test client (no network, no browser): the median of
--runs timed requests after two warm-ups, and the number of queries of one
more request. The stock changelist is `admin.ModelAdmin` with no option, on
its own AdminSite, requested by a superuser; the CSM pages by a CSM (their
role's permission checks included). Targets (issue 6): every page at most
2.5x the changelist, page 100 at most 1.5x page 1, at most 10 queries and
the same at 10, 50 and 100 rows per page.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def _env(db_path: Path) -> dict:
    env = {"SECRET_KEY": "bench-only", **os.environ, "DEBUG": "0"}
    env.setdefault("DATABASE_URL", f"sqlite:///{db_path}")
    return env


def _manage(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


def prepare(*, accounts: int, seed: int, reuse: bool, db_path: Path) -> None:
    """Migrate, seed and run the nightly pipeline once (unless reusing a prepared SQLite file)."""
    env = _env(db_path)
    if reuse and ("DATABASE_URL" in os.environ or db_path.exists()):
        print(f"reusing {env['DATABASE_URL']} (migrated)")
        _manage(["migrate", "--noinput", "-v", "0"], env)
        return
    if "DATABASE_URL" not in os.environ:  # a fresh SQLite file (never touch a given database's neighbours)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    print(f"preparing {env['DATABASE_URL']} with {accounts} accounts ...", flush=True)
    started = time.perf_counter()
    _manage(["migrate", "--noinput", "-v", "0"], env)
    _manage(["seed_demo", "--accounts", str(accounts), "--seed", str(seed), "--reset"], env)
    _manage(["nightly"], env)
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)


def _setup_django(db_path: Path) -> None:
    for key, value in _env(db_path).items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csbox.settings")
    import django

    django.setup()


def _stock_urlconf():
    """csbox's URLs plus Django's stock changelist of accounts at /stock-admin/."""
    import types

    from django.contrib import admin
    from django.urls import include, path

    from accounts.models import Account

    site = admin.AdminSite(name="stock")
    site.register(Account)
    module = types.ModuleType("bench_views_urls")
    module.urlpatterns = [path("stock-admin/", site.urls), path("", include("csbox.urls"))]
    return module


def _timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    return (time.perf_counter() - started) * 1000


def measure(client, url: str, runs: int, *, stock, cold: bool | str = False) -> tuple[float, float, int]:
    """(median ms of url, median ms of the stock changelist, queries of url).

    The stock changelist is requested between each request of the page, so
    that both see the same load on a shared machine. `cold`: the cache is
    emptied before each request of the page (the segment page's insights);
    "warmed": emptied, then refilled by the nightly's warming step (not
    timed), as the first view after a nightly run finds it.
    """
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    stock_client, stock_url = stock
    for _ in range(2):
        _timed(client, url)
    page_ms, stock_ms = [], []
    for _ in range(runs):
        if cold:
            cache.clear()
        if cold == "warmed":
            _nightly_warm()
        page_ms.append(_timed(client, url))
        stock_ms.append(_timed(stock_client, stock_url))
    if cold:
        cache.clear()
    if cold == "warmed":
        _nightly_warm()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return statistics.median(page_ms), statistics.median(stock_ms), len(ctx.captured_queries)


def _nightly_warm() -> float:
    """Run the nightly step that caches every visible segment's insights; return its ms."""
    from segments.page_services import segment_insights_warm

    started = time.perf_counter()
    segment_insights_warm()
    return (time.perf_counter() - started) * 1000


def pages() -> list[tuple]:
    """(label, url, cold cache) of every page measured."""
    from accounts.models import Account
    from segments.models import Segment

    segments = list(Segment.objects.filter(kind="account", visible=True, member_count__gt=0).order_by("member_count"))
    tab = segments[-1]  # the biggest tab
    mid = segments[len(segments) // 2]  # a middle-sized one
    big_account = Account.objects.order_by("-mrr").values_list("external_id", flat=True).first()
    return [
        ("Accounts 360, first page (50 rows)", "/accounts/"),
        (f"Accounts 360, tab {tab.slug} ({tab.member_count} members)", f"/accounts/?segment={tab.slug}"),
        ("Accounts 360, filtered + sorted (plan, region, -MRR)",
         "/accounts/?plan=enterprise&plan=business&region=emea&sort=-mrr"),
        ("Accounts 360, page 100 (50 rows)", "/accounts/?page=100"),
        ("Accounts 360, 10 rows (first of 25)", "/accounts/?per_page=25&q=Blue"),
        ("Accounts 360, 100 rows", "/accounts/?per_page=100"),
        ("Accounts 360, sorted by last activity", "/accounts/?sort=-last_activity"),
        ("Accounts 360, sorted by health", "/accounts/?sort=health"),
        ("Accounts 360, health label filter", "/accounts/?health_label=poor&sort=-mrr"),
        ("Accounts 360, own accounts (CSM landing)", "/accounts/?csm=ada"),
        ("Subscriptions 360, first page", "/subscriptions/"),
        ("Account 360 (biggest account)", f"/accounts/{big_account}/"),
        ("Segments list", "/segments/"),
        (f"Segment page {mid.slug} ({mid.member_count} members)", f"/segments/{mid.slug}/"),
        (f"Segment page {mid.slug}, first view after the nightly", f"/segments/{mid.slug}/", "warmed"),
        (f"Segment page {mid.slug}, insights not cached", f"/segments/{mid.slug}/", True),
        (f"Segment page {tab.slug} ({tab.member_count} members)", f"/segments/{tab.slug}/"),
        (f"Segment page {tab.slug}, first view after the nightly", f"/segments/{tab.slug}/", "warmed"),
        (f"Segment page {tab.slug}, insights not cached", f"/segments/{tab.slug}/", True),
        ("Segment migration (visible segments, 30 days)", "/segments/migration/"),
        ("Segment migration, first view after the nightly", "/segments/migration/", "warmed"),
        ("Segment migration, not cached", "/segments/migration/", True),
    ]


def run(*, runs: int, only: str = "") -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from accounts.models import Account

    User = get_user_model()
    admin_user, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True,
                                                                                 "is_superuser": True})
    csm = User.objects.get(username="ada")
    superuser, as_csm = Client(), Client()
    superuser.force_login(admin_user)
    as_csm.force_login(csm)
    stock_url = "/stock-admin/accounts/account/"
    with override_settings(ROOT_URLCONF=_stock_urlconf(), ALLOWED_HOSTS=["testserver"]):
        _timed(superuser, stock_url)
        with CaptureQueriesContext(connection) as ctx:
            _timed(superuser, stock_url)
        print(f"\n{Account.objects.count()} accounts; medians of {runs} requests after 2 warm-ups, each page "
              f"interleaved with the stock changelist (100 rows, superuser: {len(ctx.captured_queries)} queries)\n")
        print("| page | ms | stock ms | × stock | queries |\n|---|---:|---:|---:|---:|")
        results = {}
        for label, url, *cold in pages():
            if only and not any(part.strip().lower() in label.lower() for part in only.split(",")):
                continue
            ms, stock_ms, queries = measure(as_csm, url, runs, stock=(superuser, stock_url),
                                            cold=cold[0] if cold else False)
            results[label] = ms
            print(f"| {label} | {ms:.1f} | {stock_ms:.1f} | {ms / stock_ms:.2f} | {queries} |", flush=True)
        first, hundredth = results.get("Accounts 360, first page (50 rows)"), results.get(
            "Accounts 360, page 100 (50 rows)")
        if first and hundredth:
            print(f"\npage 100 / page 1 = {hundredth / first:.2f}")
        if not only or "nightly" in only.lower():
            print(f"nightly step segment_insights (every visible segment): {_nightly_warm():.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="reuse the prepared database (file or DATABASE_URL)")
    parser.add_argument("--only", default="", help="only pages whose label has one of these comma-separated texts")
    options = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db_path = OUT / f"views-{options.accounts}.sqlite3"
    prepare(accounts=options.accounts, seed=options.seed, reuse=options.reuse, db_path=db_path)
    _setup_django(db_path)
    run(runs=options.runs, only=options.only)


if __name__ == "__main__":
    main()
