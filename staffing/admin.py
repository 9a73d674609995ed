from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from croportal.admin import AuditedAdmin, AuditedAdminForm, ReadOnlyAdmin
from croportal.exceptions import ApplicationError
from staffing import services
from staffing.models import Assignment, Organisation, Signature, TrainingRecord, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation", {"fields": ("organisation", "timezone", "capacity")}),
    )
    list_display = ("username", "first_name", "last_name", "organisation", "is_active")
    list_select_related = ("organisation",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")


@admin.register(Assignment)
class AssignmentAdmin(AuditedAdmin):
    """Assignments start and end only through the services, which grant and revoke access."""

    list_display = ("user", "trial", "site", "role", "start_date", "end_date")
    list_select_related = ("user", "trial", "site")
    list_filter = ("role",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "trial", "site", "role", "start_date", "allocation")

    def save_model(self, request, obj, form, change):
        if change:
            services.assignment_end(assignment=obj, end_date=obj.end_date, by=request.user,
                                    reason=form.cleaned_data["change_reason"])
            return
        services.assignment_start(
            user=obj.user, trial=obj.trial, site=obj.site, role=obj.role, by=request.user,
            start_date=obj.start_date, end_date=obj.end_date, allocation=obj.allocation,
        )


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("printed_name", "meaning", "signed_at", "content_type", "object_id")


EDITABLE = ("kind", "title", "completed_on", "expires_on")


class TrainingRecordAdminForm(AuditedAdminForm):
    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        user = cleaned.get("user") or self.instance.user
        candidate = TrainingRecord(user=user, **{name: cleaned.get(name) for name in EDITABLE})
        if candidate.expires_on is None:
            candidate.expires_on = services.training_default_expiry(
                kind=candidate.kind, completed_on=candidate.completed_on)
        try:
            services.training_record_check(candidate)
        except ApplicationError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(TrainingRecord)
class TrainingRecordAdmin(AuditedAdmin):
    """Through the services, so that the expiry reminders follow every change."""

    form = TrainingRecordAdminForm
    list_display = ("user", "kind", "title", "completed_on", "expires_on")
    list_select_related = ("user",)
    list_filter = ("kind",)

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE}
        if change:
            # The form has already copied its values onto obj: update the stored row.
            record = TrainingRecord.objects.get(pk=obj.pk)
            services.training_record_update(record=record, by=request.user,
                                            reason=form.cleaned_data["change_reason"], **fields)
            return
        saved = services.training_record_create(user=obj.user, by=request.user, **fields)
        obj.pk = saved.pk
