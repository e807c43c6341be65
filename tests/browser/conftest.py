"""Browser tests: a real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API.

Fixtures for any app's browser tests:

- `browser`: one Chromium for the session. If /usr/bin/chromium is missing
  the tests FAIL (never skip): CI must run them (.ci/run installs it).
- `browser_page(user)`: a new page logged in as `user` (a session cookie, no
  login form), whose base URL is pytest-django's `live_server`; JavaScript
  errors on the page are collected in `page.js_errors`.
- `task_runner`: django-q2 tasks run inline in the server (a save refreshes
  at once); set `task_runner.inline = False` to hold them, `run_pending()`
  to run them later.
- `screenshot(page, name, docs_name=...)`: a PNG under the git-ignored
  artifacts/screenshots/; with `docs_name` it is also copied to the committed
  docs/screenshots/ when that file is missing or CSBOX_UPDATE_DOCS_SCREENSHOTS=1
  (so test runs do not rewrite committed images).

Every test here is marked `browser` and uses a transactional database (the
live server runs in another thread).
"""

import importlib
import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM
# would refuse to run next to it (SynchronousOnlyOperation).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("CSBOX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
# django-q2's own options, which a direct call of the task function must not receive.
Q_OPTIONS = {"hook", "group", "timeout", "cached", "sync", "save", "broker", "cluster", "task_name",
             "ack_failure", "q_options", "attempt_count"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does) to run the "
                    "browser tests", pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def browser_page(browser, live_server, transactional_db, settings):
    """Open pages logged in as a user: `page = browser_page(user)`; `page.goto("/admin/")`."""
    from django.test import Client

    contexts = []

    def open_page(user, *, width: int = 1440, height: int = 1000):
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()


class TaskRunner:
    """Stands in for django_q.tasks.async_task: runs the task function in the calling thread."""

    def __init__(self):
        self.inline = True
        self.pending: list[tuple[str, tuple, dict]] = []

    def __call__(self, func, *args, **kwargs):
        kwargs = {k: v for k, v in kwargs.items() if k not in Q_OPTIONS}
        if not self.inline:
            self.pending.append((func, args, kwargs))
            return "held"
        self.run(func, args, kwargs)
        return "inline"

    @staticmethod
    def run(func, args, kwargs):
        if isinstance(func, str):
            module, _, name = func.rpartition(".")
            func = getattr(importlib.import_module(module), name)
        return func(*args, **kwargs)

    def run_pending(self) -> int:
        pending, self.pending = self.pending, []
        for func, args, kwargs in pending:
            self.run(func, args, kwargs)
        return len(pending)


@pytest.fixture
def task_runner(monkeypatch):
    runner = TaskRunner()
    monkeypatch.setattr("django_q.tasks.async_task", runner)
    return runner


@pytest.fixture
def screenshot():
    """Save a full-page PNG under artifacts/screenshots/ (and optionally copy it to docs/screenshots/)."""

    def save(page, name: str, *, docs_name: str | None = None, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        target = DOCS_SCREENSHOTS / docs_name if docs_name else None
        if target and (not target.exists() or os.environ.get("CSBOX_UPDATE_DOCS_SCREENSHOTS") == "1"):
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return path

    return save
