"""What `make run` starts really works: setup_demo, a django-q2 cluster, and serve_all.

Integration tests: they run `manage.py` in subprocesses against their own
SQLite file (never the test database, whatever DATABASE_URL says), start the
real `qcluster` and web server, and stop them with signals as Ctrl-C does.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """A migrated temporary database with the demo loaded by setup_demo, and the env to reach it."""
    tmp = tmp_path_factory.mktemp("site")
    db = tmp / "site.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env |= {"DATABASE_URL": f"sqlite:///{db}", "DEBUG": "1", "CSBOX_VAR_DIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    _manage(env, "migrate", "--noinput", "-v", "0")
    return {"env": env, "db": db, "tmp": tmp}


def _manage(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _default_sigint() -> None:
    # A shell without job control starts background commands with SIGINT ignored, and the
    # ignore is inherited (a suite run as `cmd &` from a script): Python then never raises
    # KeyboardInterrupt. A terminal's foreground process has the default disposition.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(env: dict, log: Path, *args: str) -> subprocess.Popen:
    # A session of its own: the test can signal the whole tree like a terminal would.
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_default_sigint,  # noqa: PLW1509 - no threads here
        )


def _query(db: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(db, timeout=20) as connection:
        return connection.execute(sql, params).fetchall()


def _wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _enqueue_floor(env: dict, value: float) -> str:
    """Enqueue math.floor(value) through django-q2's API in another process; return the task id."""
    code = f"from django_q.tasks import async_task; print(async_task('math.floor', {value!r}))"
    return _manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1]


def _task_succeeded(db: Path, task_id: str) -> bool:
    return bool(_query(db, "SELECT 1 FROM django_q_task WHERE id = ? AND success = 1", (task_id,)))


def _stop(proc: subprocess.Popen, sig: int = signal.SIGINT, *, timeout: float = 20) -> int:
    """Signal one process and wait for it; kill its session if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _reap(proc.pid)  # the whole session: serve_all's children lead process groups of their own
        proc.wait()
        raise AssertionError(f"{proc.args} did not stop within {timeout} s of {signal.Signals(sig).name}") from None


def _session_pids(sid: int) -> set[int]:
    """Live processes of a session (Linux /proc): what the signal should have stopped."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            pids.add(int(entry.name))
    return pids


def _reap(sid: int) -> None:
    """Kill whatever a failed test left running in its session, so that it does not outlive the suite."""
    for pid in _session_pids(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_setup_demo_loads_demo_data_superuser_and_schedule_idempotently(site):
    env = {**site["env"]}
    first = _manage(env, "setup_demo", timeout=180)
    assert "loading demo data" in first.stdout and "admin / csbox-demo" in first.stdout
    accounts = _query(site["db"], "SELECT COUNT(*) FROM accounts_account")[0][0]
    assert accounts > 1000  # the default demo (2,000 accounts)
    assert _query(site["db"], "SELECT is_superuser, is_staff FROM auth_user WHERE username = 'admin'") == [(1, 1)]
    schedule = "SELECT func, schedule_type, repeats FROM django_q_schedule WHERE name = 'csbox-nightly'"
    assert _query(site["db"], schedule) == [("csbox.pipeline.nightly_task", "D", -1)]

    second = _manage(env, "setup_demo", "--addr", "0.0.0.0:8123")
    assert "loading demo data" not in second.stdout
    assert "http://0.0.0.0:8123/admin/" in second.stdout
    assert _query(site["db"], "SELECT COUNT(*) FROM accounts_account")[0][0] == accounts
    assert len(_query(site["db"], schedule)) == 1
    assert _query(site["db"], "SELECT COUNT(*) FROM auth_user WHERE username = 'admin'") == [(1,)]


def test_qcluster_executes_an_enqueued_task_and_stops_on_sigint(site):
    cluster = _start(site["env"], site["tmp"] / "qcluster.log", "qcluster")
    try:
        task_id = _enqueue_floor(site["env"], 2.5)
        _wait_for(lambda: _task_succeeded(site["db"], task_id), timeout=60, what="the task to succeed")
        func = _query(site["db"], "SELECT func FROM django_q_task WHERE id = ?", (task_id,))
        assert func == [("math.floor",)]
    finally:
        code = _stop(cluster, signal.SIGINT)
    try:
        assert code == 0, (site["tmp"] / "qcluster.log").read_text()
        assert not _session_pids(cluster.pid), "qcluster left worker processes behind"
    finally:
        _reap(cluster.pid)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(opener, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def _admin_login(base: str) -> str:
    """Log in to the admin as the demo superuser; return the page it lands on."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _status, page = _get(opener, f"{base}/admin/login/?next=/admin/accounts/account/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": token, "username": "admin", "password": "csbox-demo",
            "next": "/admin/accounts/account/"}
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
        f"{base}/admin/login/", data=urllib.parse.urlencode(form).encode(), headers={"Referer": f"{base}/admin/login/"}
    )
    with opener.open(request, timeout=10) as response:
        return response.read().decode()


def test_serve_all_serves_the_admin_runs_tasks_and_ctrl_c_stops_both(site):
    if not _query(site["db"], "SELECT 1 FROM auth_user WHERE username = 'admin'"):
        _manage(site["env"], "setup_demo", timeout=180)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _start(site["env"], site["tmp"] / "serve_all.log", "serve_all", "--addr", f"127.0.0.1:{port}")
    try:
        opener = urllib.request.build_opener()
        _wait_for(lambda: _get(opener, f"{base}/login/")[0] == 200, timeout=45, what=f"{base}/login/")
        assert "A-000001" in _admin_login(base), "the admin should list the demo accounts"
        task_id = _enqueue_floor(site["env"], 7.9)
        _wait_for(lambda: _task_succeeded(site["db"], task_id), timeout=60, what="serve_all's qcluster")
        assert len(_session_pids(server.pid)) >= 3  # serve_all, runserver (+ reloader), qcluster and its workers
    finally:
        code = _stop(server, signal.SIGINT, timeout=30)
    try:
        assert code == 0, (site["tmp"] / "serve_all.log").read_text()
        # SIGINT stops everything serve_all started: no web server, no cluster left behind.
        _wait_for(lambda: not _session_pids(server.pid), timeout=20, what="serve_all's children to exit")
        assert _get(urllib.request.build_opener(), f"{base}/login/")[0] == 0
    finally:
        _reap(server.pid)

@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_serve_all_stops_everything_promptly_on_ctrl_c_and_sigterm(site, how):
    if not _query(site["db"], "SELECT 1 FROM auth_user WHERE username = 'admin'"):
        _manage(site["env"], "setup_demo", timeout=180)
    port = _free_port()
    server = _start(site["env"], site["tmp"] / f"serve_all-{how}.log", "serve_all", "--addr", f"127.0.0.1:{port}")
    try:
        try:
            opener = urllib.request.build_opener()
            _wait_for(lambda: _get(opener, f"http://127.0.0.1:{port}/login/")[0] == 200, timeout=45,
                      what="the server")
            time.sleep(1)  # let qcluster finish starting
        finally:
            started = time.monotonic()
            if how == "ctrl-c":
                os.killpg(server.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
            else:
                server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=30)
        assert code == 0
        _wait_for(lambda: not _session_pids(server.pid), timeout=20, what="serve_all's children to exit")
        assert time.monotonic() - started < 10, (site["tmp"] / f"serve_all-{how}.log").read_text()
    finally:
        _reap(server.pid)  # a failure must not leave a qcluster on the shared site database
