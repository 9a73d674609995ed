import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from croportal.api import IdFilter
from safety import services
from safety.models import AdverseEvent, Causality, CtcaeTerm, Expectedness
from safety.selectors import (
    adverse_events_reviewable_by,
    adverse_events_visible_to,
    ctcae_terms_search,
)


class AdverseEventSerializer(serializers.ModelSerializer):
    trial = serializers.IntegerField(source="subject.trial_id", read_only=True)
    site = serializers.IntegerField(source="subject.site_id", read_only=True)
    meddra_code = serializers.CharField(read_only=True)
    soc = serializers.CharField(read_only=True)
    serious = serializers.BooleanField(read_only=True)
    term = serializers.CharField(source="term.term", read_only=True, default=None)

    class Meta:
        model = AdverseEvent
        fields = (
            "id", "subject", "trial", "site", "verbatim_term", "term", "meddra_code", "soc",
            "onset_date", "end_date", "severity_grade", "seriousness_criteria", "serious",
            "outcome", "investigator_causality", "sponsor_causality", "expectedness",
            "site_awareness_at", "sponsor_awareness_at", "review_status",
        )


class ReviewSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False)
    sponsor_causality = serializers.ChoiceField(choices=Causality.choices)
    expectedness = serializers.ChoiceField(choices=Expectedness.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class AdverseEventFilter(django_filters.FilterSet):
    trial = IdFilter(field_name="subject__trial_id")
    site = IdFilter(field_name="subject__site_id")
    subject = IdFilter()
    review_status = django_filters.CharFilter()
    serious = django_filters.BooleanFilter(method="filter_serious")

    class Meta:
        model = AdverseEvent
        fields = ("trial", "site", "subject", "review_status", "serious")

    def filter_serious(self, queryset, name, value):
        empty = queryset.filter(seriousness_criteria=[])
        return queryset.exclude(pk__in=empty.values("pk")) if value else empty


@extend_schema_view(retrieve=extend_schema(responses={200: AdverseEventSerializer, 404: None}))
class AdverseEventViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = AdverseEvent.objects.none()
    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter

    def get_queryset(self):
        return (
            adverse_events_visible_to(user=self.request.user)
            .select_related("term", "subject")
            .order_by("pk")
        )

    @extend_schema(request=ReviewSerializer, responses={200: AdverseEventSerializer, 403: None})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        event = self.get_object()
        if not adverse_events_reviewable_by(user=request.user).filter(pk=event.pk).exists():
            raise PermissionDenied("Only the trial's medical monitor may review this event.")
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.adverse_event_review(event=event, by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(event).data)


class CtcaeTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = CtcaeTerm
        fields = ("id", "meddra_code", "term", "soc", "grades", "version")


class CtcaeTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """The CTCAE v5 dictionary, searchable: ?search=neutro"""

    queryset = CtcaeTerm.objects.none()
    serializer_class = CtcaeTermSerializer

    def get_queryset(self):
        return ctcae_terms_search(query=self.request.query_params.get("search", ""))
