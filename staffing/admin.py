from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from croportal.admin import AuditedAdmin, ReadOnlyAdmin
from staffing import services
from staffing.models import Assignment, Organisation, Signature, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation", {"fields": ("organisation", "timezone")}),
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
