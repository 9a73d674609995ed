from django.contrib import admin

from croportal.admin import AuditedAdmin, ReadOnlyAdmin
from sites import services
from sites.models import (
    ConsentRecord,
    EssentialDocument,
    Site,
    SiteConsentVersion,
    SiteEnrollment,
    SiteUserObjectPermission,
    Subject,
)


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ("trial", "number", "institution", "country", "status")
    list_filter = ("status", "country")
    list_select_related = ("trial",)
    readonly_fields = ("status", "activated_on")  # activation goes through the checklist

    @staticmethod
    def create_service(**fields):
        return services.site_create(**fields)

    @staticmethod
    def update_service(site, **fields):
        return services.site_update(site=site, **fields)  # the date order, the lock


@admin.register(Subject)
class SubjectAdmin(AuditedAdmin):
    list_display = ("trial", "number", "site", "status")
    list_filter = ("status",)
    list_select_related = ("trial", "site")
    # Screening (consent, a pseudonymous number) and every status change go through the
    # subject services (pages, API): here the record and its history are only shown.
    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Subject._meta.fields]


@admin.register(SiteEnrollment)
class SiteEnrollmentAdmin(ReadOnlyAdmin):
    """Counts the subject services keep: shown, never edited."""

    list_display = ("site", "screened_count", "screening_count", "screen_failed_count",
                    "enrolled_total", "withdrawn_count")
    list_select_related = ("site",)


@admin.register(SiteUserObjectPermission)
class SitePermissionAdmin(ReadOnlyAdmin):
    list_display = ("user", "content_object", "permission")


# Documents, ICF approvals and consents are written through their services (four eyes,
# supersession, expiry deadlines, re-consent), so the admin only shows them.
@admin.register(EssentialDocument)
class EssentialDocumentAdmin(ReadOnlyAdmin):
    list_display = ("site", "kind", "version", "effective_on", "expires_on", "status")
    list_filter = ("kind", "status")
    list_select_related = ("site",)


@admin.register(SiteConsentVersion)
class SiteConsentVersionAdmin(ReadOnlyAdmin):
    list_display = ("site", "consent_version", "ethics_approved_on", "effective_on")
    list_select_related = ("site", "consent_version")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ("subject", "consent_version", "consented_on", "is_reconsent")
    list_select_related = ("subject", "consent_version")
