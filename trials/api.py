from zoneinfo import available_timezones

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from croportal.api import CanChangeObject, ChangeReasonMixin, IdFilter
from staffing.models import Organisation
from trials import services
from trials.models import Trial
from trials.selectors import (
    trial_has_permission,
    trials_visible_to,
    trials_with_counts,
    user_can_create_trials,
)

TRIAL_FIELDS = (
    "id", "protocol_number", "title", "sponsor", "sponsor_name", "phase", "therapeutic_area",
    "indication", "status", "target_enrollment", "ind_number", "eu_ct_number", "nct_id",
    "investigational_product", "safety_timezone", "dibd", "enrolled_count", "active_sites_count",
)


class TrialSerializer(ChangeReasonMixin, serializers.ModelSerializer):
    sponsor = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.SPONSOR)
    )
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    enrolled_count = serializers.IntegerField(read_only=True, default=0)
    active_sites_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Trial
        fields = (*TRIAL_FIELDS, "change_reason")

    def validate_safety_timezone(self, value: str) -> str:
        if value not in available_timezones():
            raise serializers.ValidationError("Use an IANA time zone name, e.g. Europe/Paris.")
        return value


class TrialFilter(django_filters.FilterSet):
    sponsor = IdFilter()
    status = django_filters.ChoiceFilter(choices=Trial._meta.get_field("status").choices)
    phase = django_filters.ChoiceFilter(choices=Trial._meta.get_field("phase").choices)

    class Meta:
        model = Trial
        fields = ("sponsor", "status", "phase")


@extend_schema_view(
    list=extend_schema(responses={200: TrialSerializer}),
    retrieve=extend_schema(responses={200: TrialSerializer, 404: None}),
)
class TrialViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    queryset = Trial.objects.none()
    serializer_class = TrialSerializer
    permission_classes = [CanChangeObject]
    filterset_class = TrialFilter

    def get_queryset(self):
        return trials_with_counts(trials_visible_to(user=self.request.user)).order_by("pk")

    def can_change(self, user, trial: Trial) -> bool:
        return trial_has_permission(user=user, trial=trial, codename="change_trial")

    def create(self, request, *args, **kwargs):
        if not user_can_create_trials(user=request.user):
            raise PermissionDenied("You may not create trials.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        trial = services.trial_create(by=request.user, **data)
        return Response(self._fresh(trial), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        trial = self.get_object()
        serializer = self.get_serializer(trial, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("change_reason")
        services.trial_update(trial=trial, by=request.user, reason=reason, **data)
        return Response(self._fresh(trial))

    def _fresh(self, trial: Trial) -> dict:
        return self.get_serializer(trials_with_counts(Trial.objects.filter(pk=trial.pk)).get()).data
