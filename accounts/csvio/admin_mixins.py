"""The admin's Import and Export buttons, backed by accounts.csvio.

django-import-export supplies the buttons, the forms, the permission codes
(IMPORT_EXPORT_IMPORT_PERMISSION_CODE / ..._EXPORT_...) and the two-step
import page (upload -> dry-run preview -> confirm). The work is the csvio
engine's: the upload is streamed to a private temporary file, dry-run for
the preview (counts of created / updated / unchanged / rejected rows and
every error), then imported for real, all or nothing, on confirmation.
Exports stream the changelist's queryset (its filters and search).
"""

import itertools
import re
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm

from accounts.csvio.result import ImportResult
from accounts.csvio.services import csv_export_chunks, csv_import

UPLOAD_DIR = Path(tempfile.gettempdir()) / "csbox-imports"
# Uploads left by a preview nobody confirmed are removed after a day.
UPLOAD_MAX_AGE_SECONDS = 24 * 3600
# Small exports go out as one response (simple for every client); beyond
# this the rest is streamed, so the first bytes still leave at once.
EXPORT_BUFFER_BYTES = 1024 * 1024


class CsvImportExportMixin(ImportExportMixin):
    """Import/Export on a changelist, for the entity of the admin's one resource class."""

    import_template_name = "admin/accounts/csvio_import.html"
    export_form_class = ExportForm
    #: Only superusers may import (staff: a file could make anyone ops).
    import_superuser_only = False

    @property
    def formats(self):
        return [base_formats.CSV]

    @property
    def csv_entity(self) -> str:
        return self.resource_classes[0].entity

    def has_import_permission(self, request) -> bool:
        if self.import_superuser_only:
            return request.user.is_active and request.user.is_superuser
        return super().has_import_permission(request)

    def create_import_form(self, request):
        form = super().create_import_form(request)
        # CSV is the only format: a client that does not send it still means CSV.
        form.fields["format"].required = False
        return form

    # --- import ------------------------------------------------------------

    def import_action(self, request, **kwargs):
        """Upload a file and show the dry run: counts and every error (nothing is written)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        context = {}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            limit = settings.CSBOX_IMPORT_MAX_UPLOAD_BYTES
            if upload.size > limit:
                form.add_error("import_file", (
                    f"The file is {filesizeformat(upload.size)}; the admin imports files up to "
                    f"{filesizeformat(limit)}. Split it, or use: manage.py import_csv {self.csv_entity} FILE"
                ))
            else:
                name = upload_save(upload, owner=self._upload_owner(request))
                result = self._run(request, name, dry_run=True)
                context["csv_result"] = result
                if result.ok:
                    upload.tmp_storage_name = name
                    form.cleaned_data["format"] = form.cleaned_data.get("format") or "0"
                    context["confirm_form"] = self.create_confirm_form(request, import_form=form)
                else:
                    upload_remove(name)
        return self._import_page(request, form, context)

    @method_decorator(require_POST)
    def process_import(self, request, **kwargs):
        """Import the previewed file for real, all or nothing."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        confirm_form = self.create_confirm_form(request)
        name = confirm_form.data.get("import_file_name", "")
        if not confirm_form.is_valid() or not upload_exists(name, owner=self._upload_owner(request)):
            messages.error(request, "This import has expired or was already done: upload the file again.")
            return HttpResponseRedirect(self._admin_url("import"))
        result = self._run(request, name, dry_run=False)
        upload_remove(name)
        if not result.ok:
            blank_form = self.get_import_form_class(request)(
                self.get_import_formats(), self.get_import_resource_classes(request)
            )
            return self._import_page(request, blank_form, {"csv_result": result})
        messages.success(request, (
            f"Import finished: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged ({result.seconds:.1f} s)."
        ))
        return HttpResponseRedirect(self._admin_url("changelist"))

    def _run(self, request, name: str, *, dry_run: bool) -> ImportResult:
        with upload_open(name, owner=self._upload_owner(request)) as stream:
            return csv_import(entity=self.csv_entity, stream=stream, dry_run=dry_run)

    def _upload_owner(self, request) -> str:
        # A confirmation can only name an upload of the same person and entity.
        return f"{request.user.pk}-{self.csv_entity}"

    def _import_page(self, request, form, context: dict) -> TemplateResponse:
        resources = [cls() for cls in self.get_import_resource_classes(request)]
        context.update(self.admin_site.each_context(request))
        context.update({
            "title": "Import",
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "fields_list": [(r.get_display_name(), r.column_names()) for r in resources],
            "import_error_display": self.import_error_display,
            "max_upload": settings.CSBOX_IMPORT_MAX_UPLOAD_BYTES,
        })
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def _admin_url(self, view: str) -> str:
        info = (self.model._meta.app_label, self.model._meta.model_name, view)
        return reverse("admin:{}_{}_{}".format(*info), current_app=self.admin_site.name)

    # --- export ------------------------------------------------------------

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        """Export the changelist's queryset (filters and search applied) in the import format."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        chunks = (chunk.encode("utf-8") for chunk in csv_export_chunks(entity=self.csv_entity, queryset=queryset))
        head, size = [], 0
        for chunk in chunks:
            head.append(chunk)
            size += len(chunk)
            if size > EXPORT_BUFFER_BYTES:
                response = StreamingHttpResponse(itertools.chain(head, chunks), content_type="text/csv")
                break
        else:
            response = HttpResponse(b"".join(head), content_type="text/csv")
        stamp = timezone.now().strftime("%Y-%m-%d")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_entity}-{stamp}.csv"'
        return response


# --- uploads waiting for confirmation ------------------------------------------

_UPLOAD_NAME = re.compile(r"[0-9]+-[a-z_]+-[0-9a-f]{32}\.csv\Z")


def upload_save(upload, *, owner: str) -> str:
    """Stream an uploaded file to a private temporary file; return its name."""
    UPLOAD_DIR.mkdir(mode=0o700, exist_ok=True)
    _uploads_expire()
    name = f"{owner}-{uuid.uuid4().hex}.csv"
    with open(UPLOAD_DIR / name, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return name


def _upload_path(name: str, *, owner: str) -> Path | None:
    if not _UPLOAD_NAME.match(name) or not name.startswith(owner + "-"):
        return None
    return UPLOAD_DIR / name


def upload_exists(name: str, *, owner: str) -> bool:
    path = _upload_path(name, owner=owner)
    return path is not None and path.is_file()


def upload_open(name: str, *, owner: str):
    path = _upload_path(name, owner=owner)
    if path is None:
        raise PermissionDenied
    return open(path, "rb")


def upload_remove(name: str) -> None:
    if _UPLOAD_NAME.match(name):
        (UPLOAD_DIR / name).unlink(missing_ok=True)


def _uploads_expire() -> None:
    cutoff = time.time() - UPLOAD_MAX_AGE_SECONDS
    for path in UPLOAD_DIR.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
