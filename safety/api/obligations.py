"""`/api/v1/reporting-obligations/`: the reports each case owes (read-only: the case service
creates, keeps and cancels them), and `submit/` to record one as sent."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from croportal.api import IdFilter
from safety import rules
from safety.models import ObligationStatus, ReportingObligation
from safety.selectors import obligations_visible_to
from safety.services import obligation_submit


class ReportingObligationSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = ReportingObligation
        fields = ("id", "adverse_event", "trial", "rule", "framework", "recipient",
                  "report_type", "clock_start_at", "due_on", "status", "submitted_at",
                  "reference", "on_time", "overdue", "cancelled_at", "cancelled_reason")
        read_only_fields = fields

    def get_overdue(self, obligation) -> bool:
        return obligation.overdue


class SubmitSerializer(serializers.Serializer):
    submitted_at = serializers.DateTimeField()
    reference = serializers.CharField(max_length=100)


class ReportingObligationFilter(django_filters.FilterSet):
    adverse_event = IdFilter()
    trial = IdFilter()
    status = django_filters.ChoiceFilter(choices=ObligationStatus.choices)
    rule = django_filters.ChoiceFilter(choices=[(r, r) for r in rules.RULES])
    recipient = django_filters.ChoiceFilter(choices=[(r, r) for r in rules.RECIPIENTS])
    due_on = django_filters.DateFromToRangeFilter()  # ?due_on_after=&due_on_before=

    class Meta:
        model = ReportingObligation
        fields = ("adverse_event", "trial", "status", "rule", "recipient", "due_on")


@extend_schema_view(retrieve=extend_schema(responses={200: ReportingObligationSerializer,
                                                      404: None}))
class ReportingObligationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                 viewsets.GenericViewSet):
    queryset = ReportingObligation.objects.none()
    serializer_class = ReportingObligationSerializer
    filterset_class = ReportingObligationFilter

    def get_queryset(self):
        return (obligations_visible_to(user=self.request.user).select_related("trial")
                .order_by("due_on", "pk"))

    @extend_schema(request=SubmitSerializer,
                   responses={200: ReportingObligationSerializer, 400: None, 403: None})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None, **kwargs):
        obligation = self.get_object()
        body = SubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        obligation = obligation_submit(obligation=obligation, by=request.user,
                                       **body.validated_data)
        return Response(self.get_serializer(obligation).data)
