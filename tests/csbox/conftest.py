"""Fixtures and markers for the project-level tests (processes, settings, pipeline)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "integration: starts real processes (manage.py qcluster / serve_all) on a temporary database"
    )
