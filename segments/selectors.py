"""Reads on segments: membership tables per kind, refresh order, previews."""

import datetime as dt
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from accounts.models import Account, EndUser
from segments.conditions import custom_definitions, referenced_segments, render_english
from segments.models import AccountMembership, MembershipChange, Segment, UserMembership


@dataclass(frozen=True)
class MembershipSpec:
    """Where the members of a segment kind live."""

    model: type[models.Model]
    member_model: type[models.Model]
    member_field: str

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def member_column(self) -> str:
        return self.model._meta.get_field(self.member_field).column

    @property
    def change_table(self) -> str:
        return MembershipChange._meta.db_table


_SPECS = {
    "account": MembershipSpec(model=AccountMembership, member_model=Account, member_field="account"),
    "user": MembershipSpec(model=UserMembership, member_model=EndUser, member_field="user"),
}


def membership_spec(kind: str) -> MembershipSpec:
    """Return where members of segments of `kind` are stored."""
    return _SPECS[kind]


def segments_in_refresh_order(queryset=None) -> list[Segment]:
    """Return segments ordered so that each comes after the segments it names.

    Segments in a cycle (which validation forbids) keep their admin order.
    """
    segments = list(queryset if queryset is not None else Segment.objects.all())
    by_slug = {s.slug: s for s in segments}
    deps = {s.slug: referenced_segments(s.conditions) & by_slug.keys() for s in segments}
    ordered: list[Segment] = []
    state: dict[str, int] = {}

    def visit(slug: str) -> None:
        # Iterative-enough: depth is bounded by the number of segments.
        if state.get(slug):
            return
        state[slug] = 1
        for dep in sorted(deps[slug]):
            visit(dep)
        state[slug] = 2
        ordered.append(by_slug[slug])

    for segment in segments:
        visit(segment.slug)
    return ordered


def segment_members(*, segment: Segment) -> models.QuerySet:
    """Return the current members (accounts or end users) of a segment."""
    spec = membership_spec(segment.kind)
    return spec.member_model.objects.filter(
        pk__in=spec.model.objects.filter(segment=segment).values(spec.member_column)
    )


@dataclass(frozen=True)
class Preview:
    """What a condition would select now, compared with a segment's current members."""

    count: int
    sample: list = field(default_factory=list)
    joining: int = 0
    leaving: int = 0
    joining_sample: list = field(default_factory=list)
    leaving_sample: list = field(default_factory=list)
    sentence: str = ""


def segment_preview(
    *, conditions: dict, kind: str, segment: Segment | None = None, as_of: dt.datetime | None = None, sample: int = 10
) -> Preview:
    """Count and sample the matches of (valid) conditions without writing anything.

    With a saved `segment`, also say who would join and who would leave.
    The conditions are evaluated once per row (segments.admin_selectors.preview_counts).
    """
    from segments.admin_selectors import preview_counts

    as_of = as_of or timezone.now()
    compared = segment if segment is not None and segment.pk and segment.kind == kind else None
    counts = preview_counts(conditions=conditions, kind=kind, segment=compared, as_of=as_of,
                            custom=custom_definitions(), sample=sample, change_sample=sample, with_total=False)
    return Preview(
        count=counts.count,
        sample=list(counts.sample),
        joining=counts.joining,
        leaving=counts.leaving,
        joining_sample=list(counts.joining_sample),
        leaving_sample=list(counts.leaving_sample),
        sentence=render_english(conditions, kind=kind),
    )


def segments_dump() -> list[dict]:
    """Return every segment's definition, in the admin order (the exported JSON)."""
    from segments.definitions import definition_dump

    return [definition_dump(segment) for segment in Segment.objects.order_by("order", "slug")]


def segment_next_order() -> int:
    """Return the `order` that puts a new segment after every existing one."""
    return (Segment.objects.aggregate(m=models.Max("order"))["m"] or 0) + 1
