"""Admin plumbing for regulated models: a reason for every edit, no deletes, history kept."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from croportal.audit import audited_save


class AuditedAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False, max_length=500, help_text="Required when changing an existing record."
    )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not (cleaned.get("change_reason") or "").strip():
            self.add_error("change_reason", "A reason for the change is required.")
        return cleaned


class AuditedAdmin(SimpleHistoryAdmin):
    form = AuditedAdminForm

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason") or "Created in the admin"
        audited_save(obj, by=request.user, reason=reason)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
