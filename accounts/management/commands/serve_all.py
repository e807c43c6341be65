"""Start the web server and the django-q2 cluster together; Ctrl-C stops both."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 6


class Command(BaseCommand):
    help = "Run the development web server and the django-q2 cluster (qcluster) together."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port for the web server")

    def handle(self, *args, addr, **options):
        manage = [sys.executable, "manage.py"]
        # Each child leads a process group of its own, so a terminal's Ctrl-C
        # reaches only this command, which then signals each whole group once:
        # two SIGINTs in quick succession can hang qcluster's stop, and
        # signalling runserver's autoreloader alone would orphan the server.
        procs = [
            subprocess.Popen([*manage, "qcluster"], process_group=0),
            subprocess.Popen([*manage, "runserver", addr], process_group=0),
        ]
        # `kill <pid>` (SIGTERM) stops both too, like Ctrl-C.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        self.stdout.write(f"csbox is up on http://{addr}/ with a qcluster. Press Ctrl-C to stop both.")
        try:
            # If either dies, stop the other: a half-running product misleads.
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for p in procs:
                _signal_group(p, signal.SIGINT)
            # One shared grace period, not one per child: a qcluster worker
            # finishes its current task before it stops (a refresh may take
            # minutes); tasks are safe to kill (delivered again, a refresh
            # keeps the previous membership), and Ctrl-C should be prompt.
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for p in procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                _signal_group(p, signal.SIGKILL)  # stragglers: nothing outlives serve_all
                p.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has exited
        os.killpg(proc.pid, sig)
