import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from croportal.api import CanChangeObject, ChangeReasonMixin, IdFilter
from sites import services
from sites.models import Site, Subject
from sites.selectors import (
    site_can_change,
    sites_visible_to,
    sites_with_counts,
    subjects_visible_to,
)
from trials.selectors import trials_with_permission

SITE_FIELDS = (
    "id", "trial", "number", "institution", "country", "city", "principal_investigator",
    "status", "target_enrollment", "activated_on", "enrolled_count",
)


class SiteSerializer(ChangeReasonMixin, serializers.ModelSerializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    enrolled_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Site
        fields = (*SITE_FIELDS, "change_reason")
        validators: list = []  # uniqueness is checked by the service, with the field named

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Writable FK limited to trials the caller may add sites to (DESIGN §4).
            self.fields["trial"].queryset = trials_with_permission(
                user=request.user, codename="change_trial"
            )
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["trial"].read_only = True

    def validate_country(self, value: str) -> str:
        code = services.country_code(value)
        if code is None:
            raise serializers.ValidationError("Use the ISO 3166-1 alpha-2 country code.")
        return code


class SiteFilter(django_filters.FilterSet):
    trial = IdFilter()
    status = django_filters.ChoiceFilter(choices=Site._meta.get_field("status").choices)
    country = django_filters.CharFilter()

    class Meta:
        model = Site
        fields = ("trial", "status", "country")


@extend_schema_view(retrieve=extend_schema(responses={200: SiteSerializer, 404: None}))
class SiteViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    queryset = Site.objects.none()
    serializer_class = SiteSerializer
    permission_classes = [CanChangeObject]
    filterset_class = SiteFilter

    def get_queryset(self):
        return sites_with_counts(sites_visible_to(user=self.request.user)).order_by("pk")

    def can_change(self, user, site: Site) -> bool:
        return site_can_change(user=user, site=site)

    def create(self, request, *args, **kwargs):
        if not trials_with_permission(user=request.user, codename="change_trial").exists():
            raise PermissionDenied("You may not add sites.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        site = services.site_create(by=request.user, **data)
        return Response(self._fresh(site), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        site = self.get_object()
        serializer = self.get_serializer(site, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("change_reason")
        services.site_update(site=site, by=request.user, reason=reason, **data)
        return Response(self._fresh(site))

    def _fresh(self, site: Site) -> dict:
        return self.get_serializer(sites_with_counts(Site.objects.filter(pk=site.pk)).get()).data


class SubjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = (
            "id", "site", "trial", "number", "status", "screened_on", "consented_on",
            "consent_version", "enrolled_on", "completed_on", "withdrawn_on",
            "withdrawal_reason",
        )


class SubjectFilter(django_filters.FilterSet):
    site = IdFilter()
    trial = IdFilter()
    status = django_filters.ChoiceFilter(choices=Subject._meta.get_field("status").choices)

    class Meta:
        model = Subject
        fields = ("site", "trial", "status")


@extend_schema_view(retrieve=extend_schema(responses={200: SubjectSerializer, 404: None}))
class SubjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read-only until the subjects issue adds their transitions."""

    queryset = Subject.objects.none()
    serializer_class = SubjectSerializer
    filterset_class = SubjectFilter

    def get_queryset(self):
        return subjects_visible_to(user=self.request.user).order_by("pk")

