from zoneinfo import available_timezones

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from access.checks import may_change_trial, may_create_trials
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
from staffing.models import Organisation
from trials import services
from trials.models import ConsentVersion, Milestone, ProtocolAmendment, Trial, TrialStatus
from trials.selectors import (
    trials_visible_to,
    trials_with_counts,
    trials_with_permission,
)

TRIAL_FIELDS = (
    "id", "protocol_number", "title", "sponsor", "sponsor_name", "phase", "therapeutic_area",
    "indication", "status", "target_enrollment", "ind_number", "eu_ct_number", "nct_id",
    "investigational_product", "safety_timezone", "dibd", "medical_review_days", "enrolled_count",
    "active_sites_count", "revision",
)


class TrialSerializer(LifecycleFieldsMixin, ChangeReasonMixin, serializers.ModelSerializer):
    sponsor = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.SPONSOR)
    )
    sponsor_name = serializers.CharField(source="sponsor.name", read_only=True)
    enrolled_count = serializers.IntegerField(read_only=True, default=0)
    active_sites_count = serializers.IntegerField(read_only=True, default=0)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Trial
        fields = (*TRIAL_FIELDS, "allowed_transitions", "change_reason")
        read_only_fields = ("status",)  # POST …/transition/ (LifecycleFieldsMixin)

    def get_allowed_transitions(self, trial: Trial) -> list[str]:
        return services.trial_transitions_from(trial=trial)

    def validate_safety_timezone(self, value: str) -> str:
        if value not in available_timezones():
            raise serializers.ValidationError("Use an IANA time zone name, e.g. Europe/Paris.")
        return value


class TrialFilter(django_filters.FilterSet):
    sponsor = IdFilter()
    status = django_filters.ChoiceFilter(choices=Trial._meta.get_field("status").choices)
    phase = django_filters.ChoiceFilter(choices=Trial._meta.get_field("phase").choices)
    protocol_number = django_filters.CharFilter()
    nct_id = django_filters.CharFilter()
    ind_number = django_filters.CharFilter()
    eu_ct_number = django_filters.CharFilter()

    class Meta:
        model = Trial
        fields = ("sponsor", "status", "phase", "protocol_number", "nct_id", "ind_number",
                  "eu_ct_number")


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TrialStatus.choices)
    change_reason = serializers.CharField(max_length=500)


class TrialActions:
    """`POST /trials/{id}/transition/` (enrollment: dashboards.api.TrialEnrollmentView)."""

    @extend_schema(request=TransitionSerializer, responses={200: TrialSerializer, 400: None,
                                                            403: None, 404: None})
    @action(detail=True, methods=["post"], url_path="transition")
    def transition(self, request, pk=None, **kwargs):
        trial = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        trial = services.trial_transition(
            trial=trial, to=body.validated_data["status"], by=request.user,
            reason=body.validated_data["change_reason"],
            expected_revision=expected_revision(request))
        return with_etag(Response(self._fresh(trial)), trial)


@extend_schema_view(
    list=extend_schema(responses={200: TrialSerializer}),
    retrieve=extend_schema(responses={200: TrialSerializer, 404: None}),
)
class TrialViewSet(
    TrialActions, ServiceUpdateMixin, VersionedRetrieveMixin, mixins.ListModelMixin,
    mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    queryset = Trial.objects.none()
    serializer_class = TrialSerializer
    permission_classes = [CanChangeObject]
    filterset_class = TrialFilter

    def get_queryset(self):
        return trials_with_counts(queryset=trials_visible_to(user=self.request.user)).order_by("pk")

    def can_change(self, user, trial: Trial) -> bool:
        return may_change_trial(user=user, trial=trial)

    def create(self, request, *args, **kwargs):
        if not may_create_trials(user=request.user):
            raise PermissionDenied("You may not create trials.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        trial = services.trial_create(by=request.user, **data)
        return Response(self._fresh(trial), status=status.HTTP_201_CREATED)

    def update_with(self, instance, **kwargs):
        return services.trial_update(trial=instance, **kwargs)

    def represent(self, instance) -> dict:
        return self._fresh(instance)

    def _fresh(self, trial: Trial) -> dict:
        counted = trials_with_counts(queryset=Trial.objects.filter(pk=trial.pk)).get()
        return self.get_serializer(counted).data


# -------------------------------------------------------- milestones, amendments, ICF versions

class MilestoneSerializer(ChangeReasonMixin, serializers.ModelSerializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Trial.objects.none())
    slippage_days = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Milestone
        fields = ("id", "trial", "kind", "name", "baseline_date", "planned_date", "actual_date",
                  "slippage_days", "revision", "change_reason")
        validators: list = []  # the service checks uniqueness, naming the field

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_trial_field(self)


def limit_trial_field(serializer) -> None:
    """The writable trial is one the caller may change; fixed once the record exists."""
    request = serializer.context.get("request")
    if request is not None:
        serializer.fields["trial"].queryset = trials_with_permission(
            user=request.user, codename=CHANGE_TRIAL)
    if serializer.instance is not None and not isinstance(serializer.instance, list | tuple):
        serializer.fields["trial"].read_only = True


class TrialScopedFilter(django_filters.FilterSet):
    trial = IdFilter()


class MilestoneFilter(TrialScopedFilter):
    class Meta:
        model = Milestone
        fields = ("trial", "kind")


class TrialScopedViewSet(viewsets.GenericViewSet):
    """Records of a trial: visible with the trial, written with change_trial."""

    permission_classes = [CanChangeObject]

    def visible(self):
        return self.model.objects.filter(trial__in=trials_visible_to(user=self.request.user))

    def get_queryset(self):
        return self.visible().order_by("pk")

    def can_change(self, user, obj) -> bool:
        return may_change_trial(user=user, trial=obj.trial)

    def _create_with(self, create):
        if not trials_with_permission(user=self.request.user, codename=CHANGE_TRIAL).exists():
            raise PermissionDenied("You may not change any trial.")
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        obj = create(by=self.request.user, **data)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)


@extend_schema_view(retrieve=extend_schema(responses={200: MilestoneSerializer, 404: None}))
class MilestoneViewSet(ServiceUpdateMixin, VersionedRetrieveMixin, mixins.ListModelMixin,
                       mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                       mixins.UpdateModelMixin, TrialScopedViewSet):
    model = Milestone
    queryset = Milestone.objects.none()
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter

    def create(self, request, *args, **kwargs):
        return self._create_with(services.milestone_create)

    def update_with(self, instance, **kwargs):
        return services.milestone_update(milestone=instance, **kwargs)


class AmendmentSerializer(serializers.ModelSerializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Trial.objects.none())

    class Meta:
        model = ProtocolAmendment
        fields = ("id", "trial", "version", "approved_on", "summary")
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_trial_field(self)


class AmendmentFilter(TrialScopedFilter):
    class Meta:
        model = ProtocolAmendment
        fields = ("trial",)


@extend_schema_view(retrieve=extend_schema(responses={200: AmendmentSerializer, 404: None}))
class AmendmentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                       mixins.RetrieveModelMixin, TrialScopedViewSet):
    model = ProtocolAmendment
    queryset = ProtocolAmendment.objects.none()
    serializer_class = AmendmentSerializer
    filterset_class = AmendmentFilter

    def create(self, request, *args, **kwargs):
        return self._create_with(services.amendment_create)


class ConsentVersionSerializer(serializers.ModelSerializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Trial.objects.none())

    class Meta:
        model = ConsentVersion
        fields = ("id", "trial", "version", "summary")
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_trial_field(self)


class ConsentVersionFilter(TrialScopedFilter):
    class Meta:
        model = ConsentVersion
        fields = ("trial",)


@extend_schema_view(retrieve=extend_schema(responses={200: ConsentVersionSerializer, 404: None}))
class ConsentVersionViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                            mixins.RetrieveModelMixin, TrialScopedViewSet):
    model = ConsentVersion
    queryset = ConsentVersion.objects.none()
    serializer_class = ConsentVersionSerializer
    filterset_class = ConsentVersionFilter

    def create(self, request, *args, **kwargs):
        return self._create_with(services.consent_version_create)
