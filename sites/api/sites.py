"""`/api/v1/sites/`: sites, their lifecycle transitions and activation checklist (API.md: Sites)."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from access.checks import may_change_trial
from access.codenames import CHANGE_TRIAL
from croportal.api import (
    CanChangeObject,
    ChangeReasonMixin,
    IdFilter,
    LifecycleFieldsMixin,
    ServiceUpdateMixin,
    VersionedRetrieveMixin,
    expected_revision,
    with_etag,
)
from sites import services
from sites.models import (
    Site,
    SiteStatus,
)
from sites.selectors import (
    site_can_change,
    sites_changeable_by,
    sites_visible_to,
    sites_with_counts,
)
from trials.api import limit_trial_field
from trials.models import ConsentVersion
from trials.selectors import trials_visible_to, trials_with_permission

SITE_FIELDS = (
    "id", "trial", "number", "institution", "country", "city", "principal_investigator",
    "status", "target_enrollment", "activated_on", "enrolled_count", "planned_activation_on",
    "contract_executed_on", "initiation_visit_on", "revision",
)


def scope_choices(serializer, *names: str, fixed_once_saved: str = "") -> None:
    """Writable foreign keys offer only what the caller may use: sites they may change, ICF
    versions of trials they see. A record's parent is fixed once it exists."""
    request = serializer.context.get("request")
    if request is not None:
        user = request.user
        choices = {
            "site": lambda: sites_changeable_by(user=user),
            "consent_version": lambda: ConsentVersion.objects.filter(
                trial__in=trials_visible_to(user=user)),
        }
        for name in names:
            serializer.fields[name].queryset = choices[name]()
    instance = serializer.instance
    if fixed_once_saved and instance is not None and not isinstance(instance, list | tuple):
        serializer.fields[fixed_once_saved].read_only = True


class SiteSerializer(LifecycleFieldsMixin, ChangeReasonMixin, serializers.ModelSerializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    enrolled_count = serializers.IntegerField(read_only=True, default=0)
    lifecycle_fields = services.SITE_LIFECYCLE_FIELDS

    class Meta:
        model = Site
        fields = (*SITE_FIELDS, "change_reason")
        read_only_fields = services.SITE_LIFECYCLE_FIELDS
        validators: list = []  # uniqueness is checked by the service, with the field named

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_trial_field(self)  # trials the caller may add sites to (DESIGN §4)

    def validate_country(self, value: str) -> str:
        code = services.country_code(value)
        if code is None:
            raise serializers.ValidationError("Use the ISO 3166-1 alpha-2 country code.")
        return code


def _may_change_site_status(user, site: Site) -> bool:
    """Moving a site along its lifecycle (activation above all) is the CRM's decision."""
    return may_change_trial(user=user, trial=site.trial)


class SiteTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SiteStatus.choices)
    change_reason = serializers.CharField(max_length=500)


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    done = serializers.BooleanField()
    detail = serializers.CharField()


class ChecklistSerializer(serializers.Serializer):
    complete = serializers.BooleanField()
    items = ChecklistItemSerializer(many=True)
    allowed_transitions = serializers.ListField(child=serializers.CharField())


class SiteFilter(django_filters.FilterSet):
    trial = IdFilter()
    status = django_filters.ChoiceFilter(choices=Site._meta.get_field("status").choices)
    country = django_filters.CharFilter()
    number = django_filters.CharFilter()
    activated_on = django_filters.DateFromToRangeFilter()  # ?activated_on_after=&_before=

    class Meta:
        model = Site
        fields = ("trial", "status", "country", "number", "activated_on")


@extend_schema_view(retrieve=extend_schema(responses={200: SiteSerializer, 404: None}))
class SiteViewSet(
    ServiceUpdateMixin, VersionedRetrieveMixin, mixins.ListModelMixin, mixins.CreateModelMixin,
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    queryset = Site.objects.none()
    serializer_class = SiteSerializer
    permission_classes = [CanChangeObject]
    filterset_class = SiteFilter

    def get_queryset(self):
        return sites_with_counts(queryset=sites_visible_to(user=self.request.user)).order_by("pk")

    def can_change(self, user, site: Site) -> bool:
        if self.action == "transition":
            return _may_change_site_status(user, site)
        return site_can_change(user=user, site=site)

    def create(self, request, *args, **kwargs):
        if not trials_with_permission(user=request.user, codename=CHANGE_TRIAL).exists():
            raise PermissionDenied("You may not add sites.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        site = services.site_create(by=request.user, **data)
        return Response(self._fresh(site), status=status.HTTP_201_CREATED)

    def update_with(self, instance, **kwargs):
        return services.site_update(site=instance, **kwargs)

    def represent(self, instance) -> dict:
        return self._fresh(instance)

    @extend_schema(request=SiteTransitionSerializer, responses={200: SiteSerializer, 400: None,
                                                                403: None, 404: None})
    @action(detail=True, methods=["post"], url_path="transition")
    def transition(self, request, pk=None, **kwargs):
        site = self.get_object()
        body = SiteTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        site = services.site_transition(
            site=site, to=body.validated_data["status"], by=request.user,
            reason=body.validated_data["change_reason"],
            expected_revision=expected_revision(request))
        return with_etag(Response(self._fresh(site)), site)

    @extend_schema(request=None, responses={200: ChecklistSerializer, 404: None})
    @action(detail=True, methods=["get"], url_path="checklist")
    def checklist(self, request, pk=None, **kwargs):
        site = self.get_object()
        checklist = services.site_checklist(site=site, documents=list(site.documents.all()))
        return Response({
            "complete": checklist.complete,
            "items": [{"key": i.key, "label": i.label, "done": i.done, "detail": i.detail}
                      for i in checklist.items],
            "allowed_transitions": services.site_transitions_from(site=site),
        })

    def _fresh(self, site: Site) -> dict:
        counted = sites_with_counts(queryset=Site.objects.filter(pk=site.pk)).get()
        return self.get_serializer(counted).data
