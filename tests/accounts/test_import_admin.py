"""The admin's Import/Export buttons: dry-run preview, confirm, permissions, limits, filtered exports."""

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.urls import path, reverse

from accounts.csvio import admin_mixins
from accounts.models import (
    Account,
    CustomAttributeDefinition,
    EndUser,
    Event,
    Subscription,
    SupportTicket,
    Touchpoint,
)
from tests.accounts.test_csv_support import table_counts
from tests.factories import AccountFactory

# Only the admin: these tests must not depend on the other apps' pages.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
User = get_user_model()

FILES = {
    Account: ("accounts", "external_id,name,plan\nA-9,Nine,starter\n"),
    Subscription: ("subscriptions", "external_id,account,status\nS-9,A-1,active\n"),
    EndUser: ("users", "external_id,account,email\nU-9,A-1,u9@x.test\n"),
    Event: ("events", "account,name,occurred_at\nA-1,login,2026-03-01T09:00:00Z\n"),
    Touchpoint: ("touchpoints", "external_id,account,kind,occurred_at\nT-9,A-1,call,2026-03-01T09:00:00Z\n"),
    SupportTicket: ("tickets", "external_id,account,opened_at,status\nK-9,A-1,2026-03-01T09:00:00Z,open\n"),
    CustomAttributeDefinition: ("custom_attributes", "key,type\nnps,number\n"),
    User: ("staff", "username,email,role,team\nnew_csm,n@x.test,csm,Team A\n"),
}


def url(model, view: str) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")


def upload(client, model, data: str | bytes, name: str = "data.csv"):
    content = data.encode() if isinstance(data, str) else data
    return client.post(url(model, "import"), {"import_file": SimpleUploadedFile(name, content), "format": "0"})


def confirm(client, model, preview):
    form = preview.context["confirm_form"]
    return client.post(url(model, "process_import"), {**form.initial, "format": form.initial["format"]})


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-csbox-123"))
    return client


@pytest.mark.parametrize("model", list(FILES), ids=[entity for entity, _ in FILES.values()])
def test_every_entity_imports_after_a_dry_run_preview(superuser_client, model):
    AccountFactory(external_id="A-1")
    entity, data = FILES[model]
    before = table_counts()
    users_before = User.objects.count()
    preview = upload(superuser_client, model, data)
    assert preview.status_code == 200
    result = preview.context["csv_result"]
    assert result.ok and result.dry_run and (result.created, result.updated, result.rejected) == (1, 0, 0)
    assert b"Confirm import" in preview.content and b"Create" in preview.content
    assert table_counts() == before and User.objects.count() == users_before  # a preview writes nothing
    done = confirm(superuser_client, model, preview)
    assert done.status_code == 302 and done.url == url(model, "changelist")
    after = table_counts()
    grown = {name for name in after if after[name] != before[name]} or {"User"}
    assert grown == {model.__name__}
    assert User.objects.count() == users_before + (model is User)


@pytest.mark.parametrize("model", list(FILES), ids=[entity for entity, _ in FILES.values()])
def test_every_entity_changelist_has_import_and_export_buttons(superuser_client, model):
    page = superuser_client.get(url(model, "changelist"))
    assert url(model, "import").encode() in page.content and url(model, "export").encode() in page.content


def test_a_bad_file_shows_every_error_and_no_confirm_button(ops_client):
    AccountFactory(external_id="A-1", name="Keep")
    preview = upload(ops_client, Account, "external_id,name,mrr\nA-1,Changed,1\nA-2,x,1.000\nA-3,,1\n")
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    content = preview.content.decode()
    assert "line 3, column mrr: &quot;1.000&quot; has more than 2 decimal places" in content
    assert "line 4, column name: is required to create a new account" in content
    assert "nothing was written" in content
    assert Account.objects.get(external_id="A-1").name == "Keep" and Account.objects.count() == 1


def test_a_non_utf8_upload_is_refused_with_its_line(ops_client):
    preview = upload(ops_client, Account, b"external_id,name\nA-1,\xff\n")
    assert "line 2, column name: is not UTF-8 (byte 0xFF)" in preview.content.decode()


def test_confirming_reruns_the_import_all_or_nothing(ops_client):
    preview = upload(ops_client, Account, "external_id,name\nA-1,One\n")
    AccountFactory(external_id="A-1", name="Meanwhile")
    confirm(ops_client, Account, preview)
    assert Account.objects.get(external_id="A-1").name == "One"


def test_a_confirmation_cannot_name_another_file(ops_client, tmp_path):
    preview = upload(ops_client, Account, "external_id,name\nA-1,One\n")
    forged = {**preview.context["confirm_form"].initial, "import_file_name": "1-accounts-" + "0" * 32 + ".csv"}
    response = ops_client.post(url(Account, "process_import"), forged, follow=True)
    assert "expired" in response.content.decode()
    assert Account.objects.count() == 0


def test_a_confirmation_is_used_once(ops_client):
    preview = upload(ops_client, Account, "external_id,name\nA-1,One\n")
    confirm(ops_client, Account, preview)
    Account.objects.all().delete()
    confirm(ops_client, Account, preview)
    assert Account.objects.count() == 0


def test_uploads_over_the_limit_are_refused_with_a_clear_message(ops_client, settings):
    settings.CSBOX_IMPORT_MAX_UPLOAD_BYTES = 20
    preview = upload(ops_client, Account, "external_id,name\nA-1,Acme Corporation\n")
    assert "the admin imports files up to 20" in preview.content.decode()
    assert "manage.py import_csv accounts FILE" in preview.content.decode()
    assert Account.objects.count() == 0


def test_a_user_who_can_only_view_cannot_import_but_can_export(client):
    viewer = User.objects.create_user("looker", password="pw-csbox-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_account"))
    client.force_login(viewer)
    assert client.get(url(Account, "changelist")).status_code == 200
    assert upload(client, Account, "external_id,name\nA-1,x\n").status_code == 403
    assert client.post(url(Account, "process_import"), {}).status_code == 403
    assert Account.objects.count() == 0
    assert client.post(url(Account, "export"), {"format": "0"}).status_code == 200


def test_staff_imports_are_for_superusers_only(client):
    manager = User.objects.create_user("manager", password="pw-csbox-123", is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user", "add_user"]))
    client.force_login(manager)
    assert client.get(url(User, "changelist")).status_code == 200
    assert upload(client, User, "username,role\nmallory,ops\n").status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_ops_import_accounts_but_not_staff(ops_client):
    assert upload(ops_client, Account, "external_id,name\nA-1,x\n").status_code == 200
    assert upload(ops_client, User, "username,role\nmallory,ops\n").status_code == 403


def _exported(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


def test_export_respects_the_changelist_filters_and_search(ops_client):
    AccountFactory(external_id="A-1", name="Acme", plan="starter")
    AccountFactory(external_id="A-2", name="Beta", plan="starter")
    AccountFactory(external_id="A-3", name="Acme Two", plan="business")
    response = ops_client.post(url(Account, "export") + "?plan__exact=starter&q=Acme", {"format": "0"})
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    assert [row[0] for row in _exported(response)] == ["external_id", "A-1"]


def test_export_is_the_import_format_with_formula_cells_escaped(ops_client):
    AccountFactory(external_id="A-1", name="=HYPERLINK(x)")
    rows = _exported(ops_client.post(url(Account, "export"), {"format": "0"}))
    assert rows[0][:2] == ["external_id", "name"] and rows[1][:2] == ["A-1", "'=HYPERLINK(x)"]


def test_large_exports_stream(ops_client, monkeypatch):
    monkeypatch.setattr(admin_mixins, "EXPORT_BUFFER_BYTES", 100)
    AccountFactory.create_batch(1500)
    response = ops_client.post(url(Account, "export"), {"format": "0"})
    assert isinstance(response, StreamingHttpResponse)
    assert len(_exported(response)) == 1501
