"""`/api/v1/site-consent-versions/`: ICF versions approved at a site."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from croportal.api import (
    IdFilter,
)
from sites import services
from sites.api.sites import scope_choices
from sites.models import (
    Site,
    SiteConsentVersion,
)
from sites.selectors import (
    sites_changeable_by,
    sites_visible_to,
)


class SiteConsentVersionSerializer(serializers.ModelSerializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    version = serializers.CharField(source="consent_version.version", read_only=True)

    class Meta:
        model = SiteConsentVersion
        fields = ("id", "site", "consent_version", "version", "ethics_approved_on",
                  "effective_on", "reconsent_started_at")
        read_only_fields = ("reconsent_started_at",)
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_choices(self, "site", "consent_version")


class SiteConsentVersionFilter(django_filters.FilterSet):
    site = IdFilter()

    class Meta:
        model = SiteConsentVersion
        fields = ("site",)


@extend_schema_view(retrieve=extend_schema(responses={200: SiteConsentVersionSerializer,
                                                      404: None}))
class SiteConsentVersionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                                mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = SiteConsentVersion.objects.none()
    serializer_class = SiteConsentVersionSerializer
    filterset_class = SiteConsentVersionFilter

    def get_queryset(self):
        return (SiteConsentVersion.objects.filter(site__in=sites_visible_to(user=self.request.user))
                .select_related("consent_version").order_by("pk"))

    def create(self, request, *args, **kwargs):
        if not sites_changeable_by(user=request.user).exists():
            raise PermissionDenied("You may not record ICF approvals.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = services.site_consent_version_add(by=request.user,
                                                     **serializer.validated_data)
        return Response(self.get_serializer(approval).data, status=status.HTTP_201_CREATED)
