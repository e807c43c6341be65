"""Segment definitions: load all-or-nothing, dump, round trip (spec: interchange.md)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from segments.models import Segment
from segments.selectors import segments_dump
from segments.services import DefinitionsError, segments_load
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

ALL = {"match": "all", "rules": []}


def _uses(*slugs):
    return {"match": "all", "rules": [{"field": "segment", "op": "in", "value": list(slugs)}]}


def _definition(slug, **fields):
    return {"slug": slug, "name": slug.title(), "conditions": ALL, **fields}


def test_load_applies_defaults():
    segments_load(data=[_definition("first")])
    segment = Segment.objects.get(slug="first")
    assert (segment.kind, segment.description, segment.visible) == ("account", "", True)
    assert segment.expect_members == [] and segment.expect_non_members == []


def test_order_defaults_to_after_the_last():
    Segment.objects.create(slug="existing", name="Existing", order=7)
    segments_load(data=[_definition("a"), _definition("b")])
    assert list(Segment.objects.order_by("order").values_list("slug", "order")) == [
        ("existing", 7), ("a", 8), ("b", 9)
    ]


def test_a_slug_that_exists_is_updated():
    segments_load(data=[_definition("s", name="Old")])
    result = segments_load(data=[_definition("s", name="New", description="why")])
    assert result.updated == ["s"] and result.created == []
    assert Segment.objects.get(slug="s").name == "New"


def test_a_segment_may_name_one_defined_later_in_the_file():
    uses = _definition("uses", conditions=_uses("later"))
    segments_load(data=[uses, _definition("later")])
    assert Segment.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slug": "x"}, "JSON list"),
        ([_definition("x", colour="red")], 'unknown key "colour"'),
        ([{"slug": "x", "name": "X"}], '"conditions" is required'),
        ([_definition("x", kind="team")], "kind"),
        ([_definition("x", visible="yes")], "visible"),
        ([_definition("x", order=-1)], "order"),
        ([_definition("x"), _definition("x")], "appears twice"),
        ([_definition("x", conditions={"match": "all", "rules": [{"field": "csm__password", "op": "eq", "value": 1}]})],
         "[1].conditions.rules[0].field"),
        ([_definition("x", expect_members=["A-404"])], 'no account with external_id "A-404"'),
        ([_definition("a", conditions=_uses("b")), _definition("b", conditions=_uses("a"))],
         "cycle"),
    ],
)
def test_bad_files_load_nothing_and_say_why(data, message):
    Segment.objects.create(slug="keep", name="Keep")
    with pytest.raises(DefinitionsError) as excinfo:
        segments_load(data=[_definition("keep", name="Changed")] + data if isinstance(data, list) else data)
    assert any(message in e for e in excinfo.value.errors), excinfo.value.errors
    assert list(Segment.objects.values_list("slug", "name")) == [("keep", "Keep")]


def test_dump_then_load_round_trips(tmp_path):
    AccountFactory(external_id="A-1")
    segments_load(data=[
        _definition("b", description="Why", visible=False, order=2, expect_members=["A-1"],
                    conditions={"match": "any", "negate": True, "rules": [{"field": "mrr", "op": "gt", "value": 5}]}),
        _definition("a", order=1, kind="user"),
    ])
    first = segments_dump()
    path = tmp_path / "segments.json"
    call_command("dump_segments", "-o", str(path))
    Segment.objects.all().delete()
    call_command("load_segments", str(path))
    assert segments_dump() == first == json.loads(path.read_text())


def test_load_command_reports_errors_and_exits_non_zero(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[{\"slug\": \"x\"}")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("load_segments", str(path))
    path.write_text(json.dumps([{"slug": "x", "name": "X"}]))
    with pytest.raises(CommandError, match="conditions"):
        call_command("load_segments", str(path))
    assert not Segment.objects.exists()
