"""`/api/v1/adverse-events/`: cases entered by the site (POST), new information as follow-ups,
the medical monitor's signed review; and the CTCAE dictionary they are coded to."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from croportal.api import IdFilter, VersionedRetrieveMixin, expected_revision, with_etag
from safety import services
from safety.models import (
    SERIOUSNESS_CRITERIA,
    AdverseEvent,
    CaseVersion,
    Causality,
    CtcaeTerm,
    Expectedness,
    Outcome,
    ReviewStatus,
)
from safety.selectors import (
    adverse_events_reviewable_by,
    adverse_events_visible_to,
    ctcae_terms_search,
)
from sites.models import Subject
from sites.selectors import subjects_visible_to

READ_ONLY = ("id", "trial", "site", "soc", "serious", "susar_determined_at", "is_susar",
             "site_report_late", "review_status", "review_due_on", "next_due_on", "revision")


class AdverseEventSerializer(serializers.ModelSerializer):
    """A case as API.md gives it; `term` is the CTCAE v5 term's name, `meddra_code` and `soc`
    come from it (a `meddra_code` that names another term is a 400)."""

    subject = serializers.PrimaryKeyRelatedField(queryset=Subject.objects.none())
    term = serializers.CharField(max_length=200, required=False, allow_null=True,
                                 allow_blank=True)
    meddra_code = serializers.CharField(max_length=8, required=False, allow_null=True,
                                        allow_blank=True)
    soc = serializers.CharField(read_only=True)
    serious = serializers.BooleanField(read_only=True)
    seriousness_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=SERIOUSNESS_CRITERIA), required=False,
        max_length=len(SERIOUSNESS_CRITERIA))
    severity_grade = serializers.IntegerField(min_value=1, max_value=5)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    investigator_causality = serializers.ChoiceField(choices=Causality.choices, required=False,
                                                     allow_null=True)
    sponsor_causality = serializers.ChoiceField(choices=Causality.choices, required=False,
                                                allow_null=True)
    expectedness = serializers.ChoiceField(choices=Expectedness.choices, required=False,
                                           allow_null=True)

    class Meta:
        model = AdverseEvent
        fields = (
            "id", "subject", "trial", "site", "verbatim_term", "term", "meddra_code", "soc",
            "onset_date", "end_date", "severity_grade", "seriousness_criteria", "serious",
            "outcome", "investigator_causality", "sponsor_causality", "expectedness",
            "rsi_version", "site_awareness_at", "sponsor_awareness_at", "narrative",
            "susar_determined_at", "is_susar", "site_report_late", "review_status",
            "review_due_on", "next_due_on", "revision",
        )
        read_only_fields = READ_ONLY

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["subject"].queryset = subjects_visible_to(user=request.user)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["term"] = instance.term.term if instance.term else None
        data["meddra_code"] = instance.meddra_code or None
        return data


class ChangesSerializer(AdverseEventSerializer):
    """The fields a follow-up may change, with the case's own types (all optional)."""

    class Meta(AdverseEventSerializer.Meta):
        read_only_fields = (*READ_ONLY, "subject", "site_awareness_at", "sponsor_awareness_at")


class FollowUpSerializer(serializers.Serializer):
    information_received_at = serializers.DateTimeField()
    changes = serializers.DictField(required=False, default=dict)
    narrative = serializers.CharField(required=False, allow_blank=True, default="",
                                      max_length=20000)

    def validate_changes(self, changes: dict) -> dict:
        writable = {name for name, field in ChangesSerializer().fields.items()
                    if not field.read_only}
        clocks = {"site_awareness_at", "sponsor_awareness_at"}
        for name in changes:
            if name in clocks:
                raise ValidationError({name: ["The initial report's clock start cannot change: "
                                              "new information carries its own receipt time."]})
            if name not in writable:
                raise ValidationError({str(name)[:50]: ["Not a field a follow-up can change."]})
        body = ChangesSerializer(data=changes, partial=True, context=self.context)
        body.is_valid(raise_exception=True)
        return body.validated_data


class ReviewSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False)
    sponsor_causality = serializers.ChoiceField(choices=Causality.choices)
    expectedness = serializers.ChoiceField(choices=Expectedness.choices)
    rsi_version = serializers.CharField(required=False, allow_blank=True, max_length=100)
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=5000)


class CaseVersionSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.get_full_name", read_only=True)

    class Meta:
        model = CaseVersion
        fields = ("number", "kind", "received_at", "changes", "narrative", "recorded_by",
                  "recorded_at", "facts")
        read_only_fields = fields


class AdverseEventFilter(django_filters.FilterSet):
    trial = IdFilter()
    site = IdFilter()
    subject = IdFilter()
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    serious = django_filters.BooleanFilter(method="filter_serious")
    is_susar = django_filters.BooleanFilter()
    onset_date = django_filters.DateFromToRangeFilter()  # ?onset_date_after=&_before=

    class Meta:
        model = AdverseEvent
        fields = ("trial", "site", "subject", "review_status", "serious", "is_susar",
                  "onset_date")

    def filter_serious(self, queryset, name, value):
        return queryset.exclude(seriousness_criteria=[]) if value else queryset.filter(
            seriousness_criteria=[])


@extend_schema_view(retrieve=extend_schema(responses={200: AdverseEventSerializer, 404: None}))
class AdverseEventViewSet(VersionedRetrieveMixin, mixins.ListModelMixin,
                          mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          viewsets.GenericViewSet):
    """Cases are entered with `POST` and change only by `follow-ups/` and `review/`."""

    queryset = AdverseEvent.objects.none()
    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter

    def get_queryset(self):
        return (adverse_events_visible_to(user=self.request.user)
                .select_related("term").order_by("pk"))

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        serializer.instance = services.adverse_event_create(by=self.request.user, **fields)

    @extend_schema(request=FollowUpSerializer, responses={201: AdverseEventSerializer})
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request, pk=None, **kwargs):
        event = self.get_object()
        body = FollowUpSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        services.adverse_event_follow_up(event=event, by=request.user,
                                         expected_revision=expected_revision(request),
                                         **body.validated_data)
        event = self.get_queryset().get(pk=event.pk)
        return with_etag(Response(self.get_serializer(event).data,
                                  status=status.HTTP_201_CREATED), event)

    @extend_schema(responses={200: CaseVersionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None, **kwargs):
        event = self.get_object()
        versions = event.versions.select_related("recorded_by").order_by("number")
        return Response(CaseVersionSerializer(versions, many=True).data)

    @extend_schema(request=ReviewSerializer, responses={200: AdverseEventSerializer, 403: None})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None, **kwargs):
        event = self.get_object()
        if not adverse_events_reviewable_by(user=request.user).filter(pk=event.pk).exists():
            raise PermissionDenied("Only the trial's medical monitor may review this event.")
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.adverse_event_review(event=event, by=request.user, **serializer.validated_data)
        event = self.get_queryset().get(pk=event.pk)
        return with_etag(Response(self.get_serializer(event).data), event)


class CtcaeTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = CtcaeTerm
        fields = ("id", "meddra_code", "term", "soc", "grades", "version")


class CtcaeTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """The CTCAE v5 dictionary, searchable: ?search=neutro"""

    queryset = CtcaeTerm.objects.none()
    serializer_class = CtcaeTermSerializer
    query_parameters = ("search",)

    def get_queryset(self):
        return ctcae_terms_search(query=self.request.query_params.get("search", ""))
