from django.contrib import admin

from croportal.admin import AuditedAdmin, ReadOnlyAdmin
from trials import services
from trials.models import (
    ConsentVersion,
    CtgovImport,
    Milestone,
    ProtocolAmendment,
    Trial,
    TrialForecast,
    TrialUserObjectPermission,
)


@admin.register(Trial)
class TrialAdmin(AuditedAdmin):
    list_display = ("protocol_number", "title", "sponsor", "phase", "status")
    list_filter = ("status", "phase")
    search_fields = ("protocol_number", "title", "nct_id")
    readonly_fields = ("status",)  # moves only along its lifecycle (trial_transition)

    @staticmethod
    def create_service(**fields):
        return services.trial_create(**fields)

    @staticmethod
    def update_service(trial, **fields):
        return services.trial_update(trial=trial, **fields)  # the sponsor rule, the lock


@admin.register(TrialForecast)
class TrialForecastAdmin(ReadOnlyAdmin):
    """Forecasts as last computed (recomputed when their inputs change): shown, never edited."""

    list_display = ("trial", "computed_at", "note")
    list_select_related = ("trial",)


@admin.register(TrialUserObjectPermission)
class TrialPermissionAdmin(ReadOnlyAdmin):
    """Granted only by the assignment services; shown here for inspection."""

    list_display = ("user", "content_object", "permission")


# Milestones, amendments, ICF versions and imports are written through their services
# (lifecycle rules, deadlines), so the admin only shows them.
@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ("trial", "kind", "name", "baseline_date", "planned_date", "actual_date")
    list_filter = ("kind",)
    list_select_related = ("trial",)


@admin.register(ProtocolAmendment)
class ProtocolAmendmentAdmin(ReadOnlyAdmin):
    list_display = ("trial", "version", "approved_on")
    list_select_related = ("trial",)


@admin.register(ConsentVersion)
class ConsentVersionAdmin(ReadOnlyAdmin):
    list_display = ("trial", "version")
    list_select_related = ("trial",)


@admin.register(CtgovImport)
class CtgovImportAdmin(ReadOnlyAdmin):
    list_display = ("nct_id", "state", "done", "total", "created_by", "created_at", "trial")
    list_filter = ("state",)
    exclude = ("record",)
