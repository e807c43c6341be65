"""import_csv / export_csv as an operator runs them: exit status, stderr, progress on a terminal."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.csvio import progress as progress_module
from accounts.csvio.progress import ProgressLine, lines_in_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_commands_exit_status_and_messages_from_a_shell(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEBUG": "0", "SECRET_KEY": "test"}

    def manage(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args, "--skip-checks"], cwd=ROOT, env=env,
                              capture_output=True, text=True, input=stdin, check=False)

    assert manage("migrate", "--noinput", "-v", "0").returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("external_id,name,renewal_date\nA-1,Acme,2026-13-01\nA-2,,\n")
    done = manage("import_csv", "accounts", str(bad))
    assert done.returncode == 1
    assert done.stderr.splitlines()[:2] == [
        'line 2, column renewal_date: "2026-13-01" is not a date (YYYY-MM-DD)',
        "line 3, column name: is required to create a new account",
    ]
    assert "CommandError: accounts: nothing written" in done.stderr and "Traceback" not in done.stderr
    done = manage("import_csv", "accounts", "-", stdin="external_id,name\nA-1,Acme\n")
    assert done.returncode == 0 and "1 created" in done.stdout
    done = manage("export_csv", "accounts")
    assert done.returncode == 0 and done.stdout.splitlines()[1].startswith("A-1,Acme,")
    assert manage("export_csv", "accounts", "--segment", "nope").returncode == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_rows_done_total_and_rate(monkeypatch):
    clock = iter([0.0, 1.0, 1.1, 2.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    out = _Terminal()
    line = ProgressLine(out, total=10_000)
    line(2000)  # at 1.0 s
    line(2500)  # at 1.1 s: too soon to redraw
    line(4000)  # at 2.0 s
    assert out.getvalue().split("\r")[1:] == [
        "2,000 / 10,000 rows (2,000 rows/s)   ",
        "4,000 / 10,000 rows (2,000 rows/s)   ",
    ]


def test_lines_in_file_counts_without_moving(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a\n1\n2")
    with open(path, "rb") as stream:
        stream.read(2)
        assert lines_in_file(stream) == 3
        assert stream.tell() == 2
    assert lines_in_file(io.BytesIO(b"a\n")) is None


@pytest.mark.django_db
def test_the_progress_line_appears_only_on_a_terminal(tmp_path, monkeypatch):
    monkeypatch.setattr(progress_module, "_REDRAW_SECONDS", 0.0)
    path = tmp_path / "a.csv"
    path.write_text("external_id,name\n" + "".join(f"A-{n},N\n" for n in range(3000)))
    terminal, pipe = _Terminal(), io.StringIO()
    call_command("import_csv", "accounts", str(path), "--dry-run", stdout=io.StringIO(), stderr=terminal)
    call_command("import_csv", "accounts", str(path), "--dry-run", stdout=io.StringIO(), stderr=pipe)
    assert "/ 3,000 rows" in terminal.getvalue()
    assert pipe.getvalue() == ""
