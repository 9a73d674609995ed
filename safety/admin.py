"""The admin shows safety records read-only: a case changes only by a follow-up or a signed
review, an obligation only by the case service or a submission (every door goes through the
services; the API and the pages are those doors)."""

from django.contrib import admin

from croportal.admin import ReadOnlyAdmin
from safety.models import AdverseEvent, CaseVersion, CtcaeTerm, ReportingObligation


@admin.register(CtcaeTerm)
class CtcaeTermAdmin(admin.ModelAdmin):
    list_display = ("term", "meddra_code", "soc", "grades")
    search_fields = ("term", "meddra_code")
    list_filter = ("soc",)


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "verbatim_term", "subject", "severity_grade", "is_susar",
                    "review_status")
    list_select_related = ("subject",)
    list_filter = ("review_status", "is_susar")
    raw_id_fields = ("subject", "term")


@admin.register(CaseVersion)
class CaseVersionAdmin(ReadOnlyAdmin):
    list_display = ("adverse_event", "number", "kind", "received_at", "recorded_by")
    list_select_related = ("adverse_event", "recorded_by")


@admin.register(ReportingObligation)
class ReportingObligationAdmin(ReadOnlyAdmin):
    list_display = ("adverse_event", "rule", "recipient", "due_on", "status", "on_time")
    list_filter = ("status", "rule")
    list_select_related = ("adverse_event",)
