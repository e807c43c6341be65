"""URLs of the CSM pages (namespace "csm"); every page requires login (LoginRequiredMiddleware).

Actions on a list sit under `/-/` so that they never collide with an
account's external ID (`/accounts/<external_id>/` accepts any text).
"""

from django.urls import path

from segments import views

app_name = "csm"

urlpatterns = [
    path("accounts/", views.accounts_360, name="accounts"),
    path("accounts/-/export.csv", views.accounts_export, name="accounts-export"),
    path("accounts/-/save-segment/", views.accounts_save_segment, name="accounts-save-segment"),
    path("accounts/-/csm-autocomplete/", views.csm_autocomplete, name="csm-autocomplete"),
    path("accounts/<path:external_id>/", views.account_360, name="account"),
    path("subscriptions/", views.subscriptions_360, name="subscriptions"),
    path("subscriptions/-/export.csv", views.subscriptions_export, name="subscriptions-export"),
    path("segments/", views.segment_list, name="segments"),
    path("segments/-/migration/", views.segment_migration, name="migration"),
    path("segments/-/migration/accounts/", views.segment_migration_accounts, name="migration-accounts"),
    path("segments/<slug:slug>/", views.segment_detail, name="segment"),
]
