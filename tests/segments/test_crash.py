"""A worker killed with SIGKILL in the middle of a refresh leaves the previous membership intact.

Runs real processes against a throwaway SQLite file: the child is killed
while it holds the refresh's write transaction (after it has deleted and
inserted membership rows), then the next refresh completes.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from decimal import Decimal
from accounts.models import Account
from segments.models import Segment
from segments.services import segment_refresh
Account.objects.create(external_id="A-1", name="One", mrr=Decimal("1000"))
Account.objects.create(external_id="A-2", name="Two", mrr=Decimal("10"))
s = Segment.objects.create(slug="big", name="Big", conditions={"match": "all", "rules": [
    {"field": "mrr", "op": "gt", "value": 500}]})
assert segment_refresh(segment=s).ok
Account.objects.filter(external_id="A-1").update(mrr=Decimal("1"))
Account.objects.filter(external_id="A-2").update(mrr=Decimal("5000"))
"""

# Stall inside the write transaction, after the leavers were deleted and the
# joiners inserted, and tell the parent we are there.
REFRESH_AND_STALL = """
import time
from pathlib import Path
import segments.services as services
from segments.models import Segment
def stall(**kwargs):
    Path({marker!r}).write_text("in transaction")
    time.sleep(120)
services._expectation_errors = stall
services.segment_refresh(segment=Segment.objects.get(slug="big"))
"""

MEMBERS = """
from segments.models import AccountMembership
print(sorted(AccountMembership.objects.values_list("account__external_id", flat=True)))
"""

REFRESH = """
from segments.models import Segment
from segments.services import segment_refresh
print(segment_refresh(segment=Segment.objects.get(slug="big")).ok)
"""


def _shell(code: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.mark.slow
def test_sigkill_mid_refresh_keeps_previous_membership_and_next_run_completes(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}", "DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True,
                   timeout=180)
    _shell(SETUP, env)
    assert _shell(MEMBERS, env) == "['A-1']"

    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", REFRESH_AND_STALL.format(marker=str(marker))],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the refresh child exited before reaching its transaction"
            assert time.monotonic() < deadline, "the refresh child never reached its transaction"
            time.sleep(0.1)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    assert _shell(MEMBERS, env) == "['A-1']"
    assert _shell(REFRESH, env) == "True"
    assert _shell(MEMBERS, env) == "['A-2']"
