"""Forms of the segment admin: the condition builder and the expectations pickers.

Both widgets are the plain textareas of the JSON fields (so the form posts
the spec's JSON and works without JavaScript), wrapped in a container that
static/segments/builder.js turns into the builder and the pickers. The
model's `clean()` runs the condition validator (ModelForm.full_clean), so an
invalid condition never saves and its errors come back on the field.
"""

import json

from django import forms
from django.utils.html import format_html

from accounts.models import Account, EndUser
from segments.models import Segment
from segments.validation import MAX_LIST


class ConditionBuilderWidget(forms.Textarea):
    """The conditions JSON, edited by the visual builder (static/segments/builder.js)."""

    def __init__(self, attrs=None, config: dict | None = None):
        super().__init__(attrs={"rows": 14, "spellcheck": "false", "class": "cb-json", **(attrs or {})})
        self.config = config or {}

    def format_value(self, value):
        # Pretty-print for the JSON view; forms.JSONField gives compact text.
        try:
            return json.dumps(json.loads(value), indent=2, ensure_ascii=False) if value else value
        except (TypeError, ValueError):
            return value

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        return format_html(
            '<div class="cb-root" data-config="{}">'
            '<noscript>The condition builder needs JavaScript; edit the JSON below.</noscript>{}'
            '<div class="cb-app"></div></div>',
            json.dumps(self.config), textarea,
        )


class ExpectationsWidget(forms.Textarea):
    """A JSON list of external ids, edited as chips with account (or user) autocomplete."""

    def __init__(self, attrs=None, config: dict | None = None):
        super().__init__(attrs={"rows": 2, "class": "xp-json", **(attrs or {})})
        self.config = config or {}

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        return format_html('<div class="xp-root" data-config="{}">{}<div class="xp-app"></div></div>',
                           json.dumps(self.config), textarea)


class SegmentAdminForm(forms.ModelForm):
    """The segment form; conditions are validated by Segment.clean() (the one validator)."""

    class Meta:
        model = Segment
        fields = ["name", "slug", "kind", "visible", "description", "conditions", "expect_members",
                  "expect_non_members"]
        labels = {
            "description": "Why",
            "expect_members": "Must be in",
            "expect_non_members": "Must not be in",
        }
        help_texts = {
            "name": "Say what the accounts have in common, e.g. “Q2 renewals – high touch”.",
            "description": "Why this segment exists and what the team does with it.",
            "expect_members": "Accounts you know belong here. The preview says at once whether they match.",
            "expect_non_members": "Accounts you know do not belong here.",
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind") or self.instance.kind
        for name in ("expect_members", "expect_non_members"):
            if name in cleaned:
                self._check_expected(name, cleaned[name], kind)
        return cleaned

    def _check_expected(self, name: str, value, kind: str) -> None:
        if value in (None, ""):
            self.cleaned_data[name] = []
            return
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add_error(name, "Give a list of external ids.")
            return
        if len(value) > MAX_LIST:
            self.add_error(name, f"At most {MAX_LIST} accounts.")
            return
        model = Account if kind == "account" else EndUser
        known = set(model.objects.filter(external_id__in=value).values_list("external_id", flat=True))
        unknown = [v for v in value if v not in known]
        if unknown:
            noun = "account" if kind == "account" else "user"
            self.add_error(name, f"No {noun} with external id {', '.join(unknown[:10])}.")
        self.cleaned_data[name] = list(dict.fromkeys(value))
