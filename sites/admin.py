from django.contrib import admin

from croportal.admin import AuditedAdmin, ReadOnlyAdmin
from sites.models import Site, SiteUserObjectPermission, Subject


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ("trial", "number", "institution", "country", "status")
    list_filter = ("status", "country")
    list_select_related = ("trial",)


@admin.register(Subject)
class SubjectAdmin(AuditedAdmin):
    list_display = ("trial", "number", "site", "status")
    list_filter = ("status",)
    list_select_related = ("trial", "site")


@admin.register(SiteUserObjectPermission)
class SitePermissionAdmin(ReadOnlyAdmin):
    list_display = ("user", "content_object", "permission")
