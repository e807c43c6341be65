"""The REST API (Django REST framework): login required, model permissions enforced."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.api.views import AccountViewSet
from segments.api.views import FieldListView, PreviewView, SegmentViewSet

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="api-account")
router.register("segments", SegmentViewSet, basename="api-segment")

urlpatterns = [
    path("fields/", FieldListView.as_view(), name="api-fields"),
    path("preview/", PreviewView.as_view(), name="api-preview"),
    path("", include(router.urls)),
]
