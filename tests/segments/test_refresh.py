"""Refresh: set-based membership, change log, failures keep the previous members."""

import datetime as dt
from decimal import Decimal

import pytest

from segments.models import AccountMembership, MembershipChange, RefreshStatus, Segment, SegmentSnapshot, UserMembership
from segments.selectors import segment_members, segment_preview, segments_in_refresh_order
from segments.services import segment_refresh, segments_refresh_all
from tests.factories import AccountFactory, EndUserFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def _mrr_above(value):
    return {"match": "all", "rules": [{"field": "mrr", "op": "gt", "value": value}]}


def _segment(slug="big", conditions=None, kind="account", **fields):
    return Segment.objects.create(slug=slug, name=slug.title(), kind=kind, conditions=conditions or _mrr_above(500),
                                  **fields)


def _member_ids(segment):
    return set(segment_members(segment=segment).values_list("external_id", flat=True))


def test_refresh_materialises_the_matching_accounts():
    AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    AccountFactory(external_id="A-2", mrr=Decimal("100"))
    segment = _segment()
    result = segment_refresh(segment=segment, as_of=AS_OF)
    assert result.ok and result.joined == 1 and result.left == 0 and result.members == 1
    assert _member_ids(segment) == {"A-1"}
    segment.refresh_from_db()
    assert segment.refresh_status == RefreshStatus.OK
    assert segment.member_count == 1
    assert segment.last_refresh_as_of == AS_OF


def test_refresh_logs_joins_and_leaves_and_keeps_since_of_stayers():
    stayer = AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    leaver = AccountFactory(external_id="A-2", mrr=Decimal("900"))
    joiner = AccountFactory(external_id="A-3", mrr=Decimal("10"))
    segment = _segment()
    segment_refresh(segment=segment, as_of=AS_OF)
    leaver.mrr, joiner.mrr = Decimal("1"), Decimal("5000")
    leaver.save()
    joiner.save()
    later = AS_OF + dt.timedelta(days=1)
    result = segment_refresh(segment=segment, as_of=later)
    assert (result.joined, result.left) == (1, 1)
    assert _member_ids(segment) == {"A-1", "A-3"}
    changes = set(MembershipChange.objects.filter(at=later).values_list("account__external_id", "change"))
    assert changes == {("A-2", "left"), ("A-3", "joined")}
    assert AccountMembership.objects.get(segment=segment, account=stayer).since == AS_OF


def test_a_refresh_in_which_nothing_changed_writes_no_membership_rows():
    AccountFactory(mrr=Decimal("1000"))
    segment = _segment()
    segment_refresh(segment=segment, as_of=AS_OF)
    ids_before = list(AccountMembership.objects.values_list("pk", flat=True))
    changes_before = MembershipChange.objects.count()
    result = segment_refresh(segment=segment, as_of=AS_OF + dt.timedelta(hours=1))
    assert (result.joined, result.left) == (0, 0)
    assert list(AccountMembership.objects.values_list("pk", flat=True)) == ids_before
    assert MembershipChange.objects.count() == changes_before


def test_a_failed_refresh_keeps_the_previous_membership_and_records_the_error():
    AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    segment = _segment()
    segment_refresh(segment=segment, as_of=AS_OF)
    # Corrupt the stored condition behind validation's back (as a bad migration might).
    Segment.objects.filter(pk=segment.pk).update(conditions={"match": "all", "rules": [{"field": "nope", "op": "eq"}]})
    segment.refresh_from_db()
    result = segment_refresh(segment=segment, as_of=AS_OF)
    assert not result.ok and result.error
    assert _member_ids(segment) == {"A-1"}
    segment.refresh_from_db()
    assert segment.refresh_status == RefreshStatus.FAILED
    assert segment.refresh_error


def test_expectations_contradicted_flag_the_segment():
    AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    AccountFactory(external_id="A-2", mrr=Decimal("10"))
    segment = _segment(expect_members=["A-1", "A-2"], expect_non_members=["A-1"])
    segment_refresh(segment=segment, as_of=AS_OF)
    segment.refresh_from_db()
    assert segment.expectations_contradicted
    assert any("A-2" in e and "expected in" in e for e in segment.expectation_errors)
    assert any("A-1" in e and "expected outside" in e for e in segment.expectation_errors)


def test_expectations_met_leave_no_flag():
    AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    AccountFactory(external_id="A-2", mrr=Decimal("10"))
    segment = _segment(expect_members=["A-1"], expect_non_members=["A-2"])
    segment_refresh(segment=segment, as_of=AS_OF)
    segment.refresh_from_db()
    assert segment.expectation_errors == []


def test_refresh_writes_one_snapshot_per_day_with_total_mrr():
    AccountFactory(mrr=Decimal("1000"))
    AccountFactory(mrr=Decimal("600.50"))
    segment = _segment()
    segment_refresh(segment=segment, as_of=AS_OF)
    segment_refresh(segment=segment, as_of=AS_OF + dt.timedelta(hours=2))
    snapshot = SegmentSnapshot.objects.get(segment=segment)
    assert snapshot.date == AS_OF.date()
    assert (snapshot.members, snapshot.total_mrr) == (2, Decimal("1600.50"))


def test_full_refresh_orders_segments_after_the_segments_they_name():
    AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    dependent = _segment(
        "dependent", {"match": "all", "rules": [{"field": "segment", "op": "in", "value": ["base"]}]}, order=0
    )
    base = _segment("base", order=1)
    assert [s.slug for s in segments_in_refresh_order()] == ["base", "dependent"]
    results = segments_refresh_all(as_of=AS_OF)
    assert [r.slug for r in results] == ["base", "dependent"]
    assert _member_ids(dependent) == {"A-1"} == _member_ids(base)


def test_user_segments_materialise_end_users():
    account = AccountFactory(mrr=Decimal("1000"))
    EndUserFactory(external_id="U-1", account=account, role="admin")
    EndUserFactory(external_id="U-2", account=account, role="user")
    segment = _segment("admins", {"match": "all", "rules": [{"field": "role", "op": "eq", "value": "admin"}]},
                       kind="user")
    segment_refresh(segment=segment, as_of=AS_OF)
    assert set(UserMembership.objects.values_list("user__external_id", flat=True)) == {"U-1"}
    assert MembershipChange.objects.get().user.external_id == "U-1"


def test_preview_counts_and_diffs_without_writing():
    AccountFactory(external_id="A-1", mrr=Decimal("1000"))
    AccountFactory(external_id="A-2", mrr=Decimal("300"))
    segment = _segment()
    segment_refresh(segment=segment, as_of=AS_OF)
    preview = segment_preview(conditions=_mrr_above(200), kind="account", segment=segment, as_of=AS_OF)
    assert (preview.count, preview.joining, preview.leaving) == (2, 1, 0)
    assert [a.external_id for a in preview.joining_sample] == ["A-2"]
    assert [a.external_id for a in preview.sample] == ["A-1", "A-2"]
    assert "MRR" in preview.sentence
    assert _member_ids(segment) == {"A-1"}


def test_deleting_an_account_or_user_removes_its_memberships_and_log_rows():
    # The membership and change tables have no database foreign keys: the ORM's cascade must do it.
    gone, kept = AccountFactory(mrr=Decimal("900")), AccountFactory(mrr=Decimal("800"))
    user = EndUserFactory(account=kept, role="admin")
    accounts = _segment()
    users = _segment("admins", {"match": "all", "rules": [{"field": "role", "op": "eq", "value": "admin"}]},
                     kind="user")
    segment_refresh(segment=accounts, as_of=AS_OF)
    segment_refresh(segment=users, as_of=AS_OF)
    gone.delete()
    user.delete()
    assert list(AccountMembership.objects.values_list("account_id", flat=True)) == [kept.pk]
    assert list(MembershipChange.objects.values_list("account_id", flat=True)) == [kept.pk]
    assert not UserMembership.objects.exists()


def test_an_account_deleted_between_computing_and_applying_is_not_inserted():
    from segments.services import _apply_new_members, _drop_new_members, _materialise_new_members

    gone, kept = AccountFactory(mrr=Decimal("900")), AccountFactory(mrr=Decimal("800"))
    segment = _segment()
    _materialise_new_members(segment=segment, as_of=AS_OF, metrics=None, custom=None)
    try:
        gone.delete()  # after the member set was computed, before it is applied
        joined, left, members = _apply_new_members(segment=segment, as_of=AS_OF)
    finally:
        _drop_new_members()
    assert (joined, left, members) == (1, 0, 1)
    assert list(AccountMembership.objects.values_list("account_id", flat=True)) == [kept.pk]
    assert list(MembershipChange.objects.values_list("account_id", flat=True)) == [kept.pk]
