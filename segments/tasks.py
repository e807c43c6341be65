"""django-q2 entry points for segment work; each only calls a service."""

import datetime as dt

from segments.models import Segment
from segments.page_services import segment_insights_warm_one
from segments.services import segment_refresh


def segment_refresh_task(segment_id: int, as_of_iso: str | None = None) -> dict:
    """Refresh one segment (queued on save and by the admin's "refresh now")."""
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:  # deleted while queued
        return {"skipped": "segment no longer exists"}
    as_of = dt.datetime.fromisoformat(as_of_iso) if as_of_iso else None
    result = segment_refresh(segment=segment, as_of=as_of)
    if result.ok:
        # So that the segment page's first view after the refresh is a cache hit.
        segment_insights_warm_one(segment_id=segment.pk)
    return {"slug": result.slug, "ok": result.ok, "joined": result.joined, "left": result.left, "error": result.error}
