"""`/api/v1/subjects/` and `/api/v1/consents/`: screening, status transitions, consent records."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from croportal.api import (
    CanChangeObject,
    IdFilter,
    VersionedRetrieveMixin,
    expected_revision,
    with_etag,
)
from sites import services
from sites.api.sites import scope_choices
from sites.models import (
    ConsentRecord,
    Site,
    Subject,
    SubjectStatus,
)
from sites.selectors import (
    site_can_change,
    sites_changeable_by,
    subjects_visible_to,
)
from trials.models import ConsentVersion


class SubjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = (
            "id", "site", "trial", "number", "status", "screened_on", "consented_on",
            "consent_version", "enrolled_on", "completed_on", "withdrawn_on",
            "withdrawal_reason", "screen_failed_on",
        )
        read_only_fields = fields


class SubjectFilter(django_filters.FilterSet):
    site = IdFilter()
    trial = IdFilter()
    status = django_filters.ChoiceFilter(choices=Subject._meta.get_field("status").choices)
    number = django_filters.CharFilter()
    screened_on = django_filters.DateFromToRangeFilter()  # ?screened_on_after=&_before=
    enrolled_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Subject
        fields = ("site", "trial", "status", "number", "screened_on", "enrolled_on")


class SubjectScreenSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    number = serializers.CharField(max_length=30)
    consent_version = serializers.PrimaryKeyRelatedField(queryset=ConsentVersion.objects.all())
    consented_on = serializers.DateField()
    screened_on = serializers.DateField(required=False)
    obtained_by = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_choices(self, "site", "consent_version")


class SubjectTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SubjectStatus.choices)
    on = serializers.DateField()
    withdrawal_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    change_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class ConsentSerializer(serializers.ModelSerializer):
    consent_version_label = serializers.CharField(source="consent_version.version",
                                                  read_only=True)

    class Meta:
        model = ConsentRecord
        fields = ("id", "subject", "consent_version", "consent_version_label", "consented_on",
                  "obtained_by", "is_reconsent")
        read_only_fields = ("subject", "is_reconsent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_choices(self, "consent_version")


@extend_schema_view(retrieve=extend_schema(responses={200: SubjectSerializer, 404: None}))
class SubjectViewSet(VersionedRetrieveMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Subjects under pseudonymous numbers: screened with consent (`POST`), moved along
    `transition/`, re-consented with `consent/`."""

    queryset = Subject.objects.none()
    serializer_class = SubjectSerializer
    filterset_class = SubjectFilter
    permission_classes = [CanChangeObject]

    def get_queryset(self):
        return subjects_visible_to(user=self.request.user).order_by("pk")

    def can_change(self, user, subject: Subject) -> bool:
        return site_can_change(user=user, site=subject.site)

    @extend_schema(request=SubjectScreenSerializer, responses={201: SubjectSerializer})
    def create(self, request, *args, **kwargs):
        if not sites_changeable_by(user=request.user).exists():
            raise PermissionDenied("You may not register subjects.")
        body = SubjectScreenSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        subject = services.subject_screen(by=request.user, **body.validated_data)
        return Response(SubjectSerializer(subject).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubjectTransitionSerializer,
                   responses={200: SubjectSerializer, 400: None, 403: None, 404: None})
    @action(detail=True, methods=["post"], url_path="transition")
    def transition(self, request, pk=None, **kwargs):
        subject = self.get_object()
        body = SubjectTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        subject = services.subject_transition(
            subject=subject, to=data["status"], on=data["on"], by=request.user,
            reason=data.get("change_reason", ""),
            withdrawal_reason=data.get("withdrawal_reason", ""),
            expected_revision=expected_revision(request))
        return with_etag(Response(SubjectSerializer(subject).data), subject)

    @extend_schema(request=ConsentSerializer,
                   responses={201: ConsentSerializer, 400: None, 403: None, 404: None})
    @action(detail=True, methods=["post"], url_path="consent")
    def consent(self, request, pk=None, **kwargs):
        subject = self.get_object()
        body = ConsentSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        record = services.consent_record(subject=subject, by=request.user,
                                         consent_version=body.validated_data["consent_version"],
                                         consented_on=body.validated_data["consented_on"],
                                         obtained_by=body.validated_data.get("obtained_by", ""))
        return Response(ConsentSerializer(record).data, status=status.HTTP_201_CREATED)


class ConsentRecordFilter(django_filters.FilterSet):
    subject = IdFilter()
    site = IdFilter(field_name="subject__site")

    class Meta:
        model = ConsentRecord
        fields = ("subject", "site")


@extend_schema_view(retrieve=extend_schema(responses={200: ConsentSerializer, 404: None}))
class ConsentRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    queryset = ConsentRecord.objects.none()
    serializer_class = ConsentSerializer
    filterset_class = ConsentRecordFilter

    def get_queryset(self):
        visible = subjects_visible_to(user=self.request.user)
        return (ConsentRecord.objects.filter(subject__in=visible)
                .select_related("consent_version").order_by("pk"))
