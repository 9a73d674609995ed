import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

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
from sites.enrollment import enrollment_of
from sites.models import (
    ConsentRecord,
    EssentialDocument,
    Site,
    SiteConsentVersion,
    SiteStatus,
    Subject,
    SubjectStatus,
)
from sites.selectors import (
    site_can_change,
    sites_changeable_by,
    sites_visible_to,
    sites_with_counts,
    subjects_visible_to,
)
from trials.api import limit_trial_field
from trials.models import ConsentVersion
from trials.selectors import trial_has_permission, trials_visible_to, trials_with_permission

SITE_FIELDS = (
    "id", "trial", "number", "institution", "country", "city", "principal_investigator",
    "status", "target_enrollment", "activated_on", "enrolled_count", "planned_activation_on",
    "contract_executed_on", "initiation_visit_on", "revision",
)


def _scope_choices(serializer, *names: str, fixed_once_saved: str = "") -> None:
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
    return trial_has_permission(user=user, trial=site.trial, codename="change_trial")


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

    class Meta:
        model = Site
        fields = ("trial", "status", "country")


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
        return sites_with_counts(sites_visible_to(user=self.request.user)).order_by("pk")

    def can_change(self, user, site: Site) -> bool:
        if self.action == "transition":
            return _may_change_site_status(user, site)
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
        checklist = services.site_checklist(site, list(site.documents.all()))
        return Response({
            "complete": checklist.complete,
            "items": [{"key": i.key, "label": i.label, "done": i.done, "detail": i.detail}
                      for i in checklist.items],
            "allowed_transitions": services.site_transitions_from(site),
        })

    def _fresh(self, site: Site) -> dict:
        return self.get_serializer(sites_with_counts(Site.objects.filter(pk=site.pk)).get()).data


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

    class Meta:
        model = Subject
        fields = ("site", "trial", "status")


class SubjectScreenSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    number = serializers.CharField(max_length=30)
    consent_version = serializers.PrimaryKeyRelatedField(queryset=ConsentVersion.objects.all())
    consented_on = serializers.DateField()
    screened_on = serializers.DateField(required=False)
    obtained_by = serializers.CharField(max_length=200, required=False, allow_blank=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _scope_choices(self, "site", "consent_version")


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
        _scope_choices(self, "consent_version")


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


# ----------------------------------------------------------------- essential documents

class EssentialDocumentSerializer(ChangeReasonMixin, serializers.ModelSerializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = EssentialDocument
        fields = ("id", "site", "kind", "title", "version", "effective_on", "expires_on",
                  "status", "is_current", "filed_by", "reviewed_by", "reviewed_at",
                  "revision", "change_reason")
        read_only_fields = ("filed_by", "reviewed_by", "reviewed_at", "revision")
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _scope_choices(self, "site", fixed_once_saved="site")

    def get_is_current(self, document: EssentialDocument) -> bool:
        return document.is_current(timezone.localdate())


class EssentialDocumentFilter(django_filters.FilterSet):
    site = IdFilter()
    trial = IdFilter(field_name="site__trial")
    kind = django_filters.ChoiceFilter(choices=EssentialDocument._meta.get_field("kind").choices)
    status = django_filters.ChoiceFilter(
        choices=EssentialDocument._meta.get_field("status").choices)

    class Meta:
        model = EssentialDocument
        fields = ("site", "trial", "kind", "status")


@extend_schema_view(retrieve=extend_schema(responses={200: EssentialDocumentSerializer,
                                                      404: None}))
class EssentialDocumentViewSet(ServiceUpdateMixin, VersionedRetrieveMixin, mixins.ListModelMixin,
                               mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                               mixins.UpdateModelMixin, viewsets.GenericViewSet):
    queryset = EssentialDocument.objects.none()
    serializer_class = EssentialDocumentSerializer
    filterset_class = EssentialDocumentFilter
    permission_classes = [CanChangeObject]

    def get_queryset(self):
        return EssentialDocument.objects.filter(
            site__in=sites_visible_to(user=self.request.user)).order_by("pk")

    def can_change(self, user, document: EssentialDocument) -> bool:
        return site_can_change(user=user, site=document.site)

    def create(self, request, *args, **kwargs):
        if not sites_changeable_by(user=request.user).exists():
            raise PermissionDenied("You may not file documents.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        document = services.document_create(by=request.user, **data)
        return Response(self.get_serializer(document).data, status=status.HTTP_201_CREATED)

    def update_with(self, instance, **kwargs):
        return services.document_update(document=instance, **kwargs)


# ------------------------------------------------------------ ICF versions at a site

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
        _scope_choices(self, "site", "consent_version")


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


# ------------------------------------------------------------ enrollment of a trial

class TrialEnrollmentView(APIView):
    """`GET /api/v1/trials/{id}/enrollment/`: enrollment vs plan and the forecast, as of today
    (computed on request). Totals and forecast cover the whole trial; the per-site and
    per-country tables only the sites the caller sees."""

    @extend_schema(responses={200: dict, 404: None})
    def get(self, request, pk: int):
        trial = get_object_or_404(trials_visible_to(user=request.user), pk=pk)
        today = timezone.localdate()
        e = enrollment_of(trial, sites=sites_visible_to(user=request.user), today=today)
        fc = e.forecast
        return Response({
            "trial": trial.pk, "as_of": today, "target": e.target, "enrolled": e.enrolled,
            "screened": e.screened, "screen_failed": e.screen_failed,
            "screen_failure_rate": e.screen_failure_rate,
            "planned_fpi": e.fpi, "planned_lpi": e.lpi,
            "planned_to_date": None if e.planned_today is None else round(e.planned_today, 1),
            "actual": [{"date": day, "cumulative": n} for day, n in e.actual],
            "forecast": None if fc is None else {
                "method": fc.method,
                "median_date": e.forecast_date(fc.median_days),
                "interval_90": [e.forecast_date(fc.low_days), e.forecast_date(fc.high_days)],
                "mean_date": e.forecast_date(fc.mean_days),
                "probability_by_planned_lpi": fc.p_within_planned,
            },
            "forecast_note": e.forecast_method_note,
            "sites": [{"site": s.pk, "number": s.number, "country": s.country,
                       "status": s.status, "target": s.target_enrollment,
                       "screened": s.screened_count, "enrolled": s.enrolled_total,
                       "screen_failed": s.screen_failed_count,
                       "planned_to_date": None if s.planned_today is None
                       else round(s.planned_today, 1)} for s in e.sites],
            "countries": e.countries,
        })
