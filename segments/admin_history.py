"""A readable change history of segment definitions (django-simple-history).

A change of `conditions` is shown as the plain-English sentence before and
after, plus a line diff of the pretty-printed JSON; other fields as
simple-history shows them.
"""

import difflib
import json
from typing import Any

from django.utils.html import escape
from simple_history.template_utils import HistoricalRecordContextHelper

from segments.conditions import render_english


def conditions_json_diff(old: Any, new: Any) -> list[dict]:
    """Lines of a unified diff of two condition documents: [{"kind": "+"|"-"|" "|"@", "text": ...}]."""
    before = json.dumps(old, indent=2, sort_keys=False, ensure_ascii=False).splitlines()
    after = json.dumps(new, indent=2, sort_keys=False, ensure_ascii=False).splitlines()
    lines = []
    for line in difflib.unified_diff(before, after, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        lines.append({"kind": line[:1] if line[:1] in "+-@" else " ", "text": line})
    return lines


class SegmentHistoryContextHelper(HistoricalRecordContextHelper):
    """Show condition changes as sentences and a JSON diff."""

    def context_for_delta_changes(self, delta) -> list[dict[str, Any]]:
        kind = getattr(self.record, "kind", "account")
        context = []
        for change in delta.changes:
            if change.field != "conditions":
                context.extend(super().context_for_delta_changes(_only(delta, change)))
                continue
            # delta.old_record is the older version (diff_against(previous)).
            context.append({
                "field": "Conditions",
                "old": escape(render_english(change.old, kind=kind)),
                "new": escape(render_english(change.new, kind=kind)),
                "diff": conditions_json_diff(change.old, change.new),
            })
        return context


class _OneChange:
    """A delta holding one change (the base helper formats a whole delta)."""

    def __init__(self, delta, change):
        self.changes = [change]
        self.changed_fields = [change.field]
        self.old_record = delta.old_record
        self.new_record = delta.new_record


def _only(delta, change) -> _OneChange:
    return _OneChange(delta, change)
