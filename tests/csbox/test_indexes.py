"""Index hygiene of csbox's own tables, read from the migrated database.

Every foreign key leads some index (deletes cascade and joins look rows up by
it) and no plain index repeats the leading columns of another one (it would
only slow every write: a refresh writes each index of the membership and
change tables once per change).
"""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "segments", "health", "playbooks")


def _project_models():
    return [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS and m._meta.managed
            and not m._meta.db_table.startswith(("segments_historical",))]


def _indexes(table: str) -> list[tuple[list[str], bool]]:
    """(columns, unique-or-primary) of every index of the table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    # PostgreSQL's "_like" indexes (varchar_pattern_ops, for LIKE 'prefix%') serve other queries: not duplicates.
    return [(info["columns"], bool(info["unique"] or info["primary_key"])) for name, info in constraints.items()
            if (info["index"] or info["unique"] or info["primary_key"]) and info["columns"]
            and not name.endswith("_like")]


def test_every_foreign_key_leads_an_index():
    missing = []
    for model in _project_models():
        leading = {columns[0] for columns, _unique in _indexes(model._meta.db_table)}
        missing += [f"{model._meta.db_table}.{field.column}" for field in model._meta.concrete_fields
                    if field.is_relation and field.column not in leading]
    assert missing == []


def test_no_plain_index_is_a_prefix_of_another():
    redundant = []
    for model in _project_models():
        indexes = _indexes(model._meta.db_table)
        for columns, unique in indexes:
            if unique:
                continue  # a unique index enforces something even when a wider one exists
            wider = [other for other, _ in indexes if other != columns and other[: len(columns)] == columns]
            same = [other for other, _ in indexes if other == columns]
            if wider or len(same) > 1:
                redundant.append(f"{model._meta.db_table}{columns}")
    assert redundant == []
