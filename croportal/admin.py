"""Admin plumbing for regulated models: a reason for every edit, no deletes, history kept."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from croportal.audit import audited_save
from croportal.exceptions import ApplicationError
from croportal.forms import RevisionField


class AuditedAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False, max_length=500, help_text="Required when changing an existing record."
    )
    # Not "revision": a form field may not share the name of the model's non-editable one.
    opened_revision = RevisionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opened_revision"].initial = self.instance.revision

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", "A reason for the change is required.")
        return cleaned


class AuditedAdmin(SimpleHistoryAdmin):
    """A regulated record in the admin. With `create_service` / `update_service` set, the
    admin is one more door to the record's services (their rules, locks and stale-write check);
    a refusal is shown as an error and nothing is saved."""

    form = AuditedAdminForm
    create_service = None  # (by=, **fields) -> record
    update_service = None  # (record, by=, reason=, expected_revision=, **fields) -> record

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason") or "Created in the admin"
        if change and self.update_service is not None:
            stored = type(obj)._default_manager.get(pk=obj.pk)
            fields = {name: form.cleaned_data[name] for name in form.changed_data
                      if name not in ("change_reason", "opened_revision")}
            type(self).update_service(stored, by=request.user, reason=reason,
                                      expected_revision=form.cleaned_data.get("opened_revision"),
                                      **fields)
        elif not change and self.create_service is not None:
            fields = {name: form.cleaned_data[name] for name in form.cleaned_data
                      if name not in ("change_reason", "opened_revision")}
            obj.pk = type(self).create_service(by=request.user, **fields).pk
        else:
            audited_save(obj, by=request.user, reason=reason)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A service's refusal is an error message on the form, with nothing saved."""
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
