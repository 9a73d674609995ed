from django.contrib import admin

from croportal.admin import AuditedAdmin
from safety.models import AdverseEvent, CtcaeTerm


@admin.register(CtcaeTerm)
class CtcaeTermAdmin(admin.ModelAdmin):
    list_display = ("term", "meddra_code", "soc", "grades")
    search_fields = ("term", "meddra_code")
    list_filter = ("soc",)


@admin.register(AdverseEvent)
class AdverseEventAdmin(AuditedAdmin):
    list_display = ("id", "verbatim_term", "subject", "severity_grade", "review_status")
    list_select_related = ("subject",)
    raw_id_fields = ("subject", "term")
    # The review is the medical monitor's e-signed act (adverse_event_review), never an edit.
    readonly_fields = ("review_status",)
