import django_filters
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from access.checks import manages_any_trial, may_manage_staff
from croportal.api import CanChangeObject, ChangeReasonMixin, IdFilter
from croportal.parsers import SafeJSONParser
from staffing import services
from staffing.models import ApiToken, Assignment, TrainingRecord, User
from staffing.selectors import (
    active_assignments_of,
    assignments_visible_to,
    sites_of,
    training_can_change,
    training_people_for,
    training_records_visible_to,
    trials_managed_by,
)
from staffing.tokens import api_token_issue, api_token_revoke


class TokenRequestSerializer(serializers.Serializer):
    # The user model's limit, checked before authenticate: django-axes would otherwise try
    # to log an over-long username in its 255-character column (a 500 on PostgreSQL).
    username = serializers.CharField(max_length=User._meta.get_field("username").max_length)
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class AuthTokenView(APIView):
    """POST username and password → a new API token (it expires: README, API tokens); rate
    limited; locks out like the login page."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [SafeJSONParser, FormParser, MultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}), 400: None},
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None or not user.is_active:
            return Response({"detail": "Unable to log in with these credentials."}, status=400)
        return Response({"token": api_token_issue(user=user)})


class LogoutView(APIView):
    """POST → the caller's API token is revoked at once (204)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            api_token_revoke(token=request.auth, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ("trial", "site", "role")


class MeSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "full_name", "email", "roles")

    def get_roles(self, user) -> list[dict]:
        return RoleSerializer(active_assignments_of(user=user), many=True).data


class MeView(APIView):
    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class AssignmentSerializer(serializers.ModelSerializer):
    trial = serializers.PrimaryKeyRelatedField(queryset=Assignment.objects.none())
    site = serializers.PrimaryKeyRelatedField(
        queryset=Assignment.objects.none(), required=False, allow_null=True
    )
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))

    class Meta:
        model = Assignment
        fields = ("id", "user", "trial", "site", "role", "start_date", "end_date", "allocation")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["trial"].queryset = trials_managed_by(user=request.user)
        if request is not None and "site" in self.fields:
            self.fields["site"].queryset = sites_of(trials=self.fields["trial"].queryset)


class AssignmentEndSerializer(serializers.Serializer):
    end_date = serializers.DateField()
    change_reason = serializers.CharField(max_length=500)


class AssignmentFilter(django_filters.FilterSet):
    trial = IdFilter()
    user = IdFilter()
    role = django_filters.CharFilter()

    class Meta:
        model = Assignment
        fields = ("trial", "user", "role")


@extend_schema_view(retrieve=extend_schema(responses={200: AssignmentSerializer, 404: None}))
class AssignmentViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Assignment.objects.none()
    serializer_class = AssignmentSerializer
    permission_classes = [CanChangeObject]
    filterset_class = AssignmentFilter

    def get_queryset(self):
        return assignments_visible_to(user=self.request.user).order_by("pk")

    def can_change(self, user, assignment: Assignment) -> bool:
        return may_manage_staff(user=user, trial=assignment.trial)

    def create(self, request, *args, **kwargs):
        if not manages_any_trial(user=request.user):
            raise PermissionDenied("You may not assign staff.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_start(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AssignmentEndSerializer, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"], url_path="end")
    def end(self, request, pk=None):
        assignment = self.get_object()
        serializer = AssignmentEndSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.assignment_end(
            assignment=assignment, by=request.user,
            end_date=serializer.validated_data["end_date"],
            reason=serializer.validated_data["change_reason"],
        )
        return Response(self.get_serializer(assignment).data)


class TrainingRecordSerializer(ChangeReasonMixin, serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.none())

    class Meta:
        model = TrainingRecord
        fields = ("id", "user", "kind", "title", "completed_on", "expires_on", "change_reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Writable FK limited to the people whose training the caller may record.
            self.fields["user"].queryset = training_people_for(user=request.user)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["user"].read_only = True


class TrainingRecordFilter(django_filters.FilterSet):
    user = IdFilter()
    kind = django_filters.ChoiceFilter(choices=TrainingRecord.Kind.choices)

    class Meta:
        model = TrainingRecord
        fields = ("user", "kind")


@extend_schema_view(retrieve=extend_schema(responses={200: TrainingRecordSerializer, 404: None}))
class TrainingRecordViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin, viewsets.GenericViewSet,
):
    queryset = TrainingRecord.objects.none()
    serializer_class = TrainingRecordSerializer
    permission_classes = [CanChangeObject]
    filterset_class = TrainingRecordFilter

    def get_queryset(self):
        return training_records_visible_to(user=self.request.user).order_by("pk")

    def can_change(self, user, record: TrainingRecord) -> bool:
        return training_can_change(user=user, person=record.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)
        record = services.training_record_create(by=request.user, **data)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        serializer = self.get_serializer(record, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("change_reason")
        services.training_record_update(record=record, by=request.user, reason=reason, **data)
        return Response(self.get_serializer(record).data)
