"""Production settings from the environment: HTTPS hardening with CSBOX_HTTPS."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_PROXY_SSL_HEADER)"
)


def _settings(**env) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("CSBOX_HTTPS", "SECURE_HSTS_SECONDS")}
    environ.update({"DEBUG": "0", "SECRET_KEY": "a-test-key-that-is-long-enough-" * 3,
                    "DJANGO_SETTINGS_MODULE": "csbox.settings", **env})
    code = f"import django; django.setup(); {PRINT}"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout.strip()


def test_plain_http_by_default_so_that_make_run_works_locally():
    assert _settings() == "False False False 0 None"


def test_csbox_https_turns_on_secure_cookies_redirect_hsts_and_the_proxy_header():
    assert _settings(CSBOX_HTTPS="1") == "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"
    assert _settings(CSBOX_HTTPS="1", SECURE_HSTS_SECONDS="3600").split()[3] == "3600"


@pytest.mark.django_db
def test_sqlite_connections_have_a_32_mb_page_cache_and_foreign_keys_on():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas (this run is on PostgreSQL)")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -32768  # KiB: a refresh's and an import's index walks stay in memory
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1
