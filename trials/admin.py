from django.contrib import admin

from croportal.admin import AuditedAdmin, ReadOnlyAdmin
from trials.models import Trial, TrialUserObjectPermission


@admin.register(Trial)
class TrialAdmin(AuditedAdmin):
    list_display = ("protocol_number", "title", "sponsor", "phase", "status")
    list_filter = ("status", "phase")
    search_fields = ("protocol_number", "title", "nct_id")


@admin.register(TrialUserObjectPermission)
class TrialPermissionAdmin(ReadOnlyAdmin):
    """Granted only by the assignment services; shown here for inspection."""

    list_display = ("user", "content_object", "permission")
