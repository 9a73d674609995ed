"""`/api/v1/deadlines/` and `/api/v1/notifications/` (API.md: Reminders)."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from access.checks import may_manage_staff
from croportal.api import CanChangeObject, Counted, IdFilter
from reminders import services
from reminders.models import Deadline, Notification
from reminders.policies import Kind
from reminders.selectors import (
    active_people,
    deadlines_counted,
    deadlines_for_list,
    deadlines_scoped,
    deadlines_visible_to,
    notifications_of,
    overdue_deadlines,
    sites_of_trials_seen_by,
    trials_seen_by,
)


class DeadlineSerializer(serializers.ModelSerializer):
    overdue = serializers.SerializerMethodField()
    kind = serializers.CharField(max_length=30)
    trial = serializers.PrimaryKeyRelatedField(queryset=Deadline.objects.none())
    site = serializers.PrimaryKeyRelatedField(queryset=Deadline.objects.none(), required=False,
                                              allow_null=True, write_only=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=active_people(), required=False)
    escalation_user = serializers.PrimaryKeyRelatedField(
        queryset=active_people(), required=False, allow_null=True)

    class Meta:
        model = Deadline
        fields = ("id", "kind", "title", "trial", "site", "owner", "escalation_user", "due_at",
                  "state", "overdue", "done_at", "url")
        read_only_fields = ("state", "done_at", "url")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["trial"].queryset = trials_seen_by(user=request.user)
            self.fields["site"].queryset = sites_of_trials_seen_by(user=request.user)

    def get_overdue(self, deadline: Deadline) -> bool:
        annotated = getattr(deadline, "overdue", None)
        if isinstance(annotated, bool):
            return annotated
        return deadline.is_overdue(timezone.now())

    def validate_kind(self, value: str) -> str:
        if value not in Kind.values:
            raise serializers.ValidationError(
                f"Unknown deadline kind {value!r}; known kinds: {', '.join(Kind.values)}.")
        return value


class ReassignSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=active_people())


class DeadlineFilter(django_filters.FilterSet):
    mine = django_filters.BooleanFilter(method="filter_mine")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    trial = IdFilter()
    state = django_filters.ChoiceFilter(choices=Deadline.State.choices)
    kind = django_filters.ChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Deadline
        fields = ("mine", "state", "trial", "kind", "overdue")

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = self.request.user
        return queryset.filter(owner=user) if value else queryset.exclude(owner=user)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = overdue_deadlines(now=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


@extend_schema_view(retrieve=extend_schema(responses={200: DeadlineSerializer, 404: None}))
class DeadlineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    """Deadlines the caller owns, is the escalation for, or manages (CRM); `?mine=true` for
    one's own. Create makes a hand-made deadline (task, monitoring visit, visit report)."""

    queryset = Deadline.objects.none()
    serializer_class = DeadlineSerializer
    permission_classes = [CanChangeObject]
    filterset_class = DeadlineFilter

    def get_queryset(self):
        return deadlines_for_list(queryset=deadlines_visible_to(user=self.request.user))

    def list(self, request, *args, **kwargs):
        """The filters on every deadline, then the caller's scope; the count part by part
        (deadlines_counted), each an index-only count."""
        unscoped = self.filter_queryset(deadlines_for_list(queryset=Deadline.objects.all()))
        rows = deadlines_scoped(queryset=unscoped, user=request.user)
        count = deadlines_counted(queryset=unscoped, user=request.user)
        page = self.paginate_queryset(Counted(rows, count))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def can_change(self, user, deadline: Deadline) -> bool:
        return deadline.owner_id == user.pk or (
            deadline.trial is not None
            and may_manage_staff(user=user, trial=deadline.trial_id)
        )

    def create(self, request, *args, **kwargs):
        if request.user.is_sponsor_user:
            raise PermissionDenied("Sponsor users have read-only access.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        extra = {"escalation_user": data["escalation_user"]} if "escalation_user" in data else {}
        deadline = services.deadline_create_manual(
            by=request.user, kind=data["kind"], trial=data["trial"], site=data.get("site"),
            owner=data.get("owner"), due_at=data["due_at"], title=data["title"], **extra)
        return Response(self.get_serializer(deadline).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReassignSerializer,
                   responses={200: DeadlineSerializer, 400: None, 403: None, 404: None})
    @action(detail=True, methods=["post"], url_path="reassign")
    def reassign(self, request, pk=None):
        """The trial's CRM gives the deadline to someone else on the trial."""
        deadline = self.get_object()
        serializer = ReassignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deadline = services.deadline_reassign(
            deadline=deadline, owner=serializer.validated_data["owner"], by=request.user)
        return Response(self.get_serializer(deadline).data)

    @extend_schema(request=None, responses={200: DeadlineSerializer, 400: None, 403: None,
                                            404: None})
    @action(detail=True, methods=["post"], url_path="done")
    def done(self, request, pk=None):
        deadline = self.get_object()
        deadline = services.deadline_complete(deadline=deadline, by=request.user)
        return Response(self.get_serializer(deadline).data)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "kind", "message", "url", "created_at", "read_at")
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ("unread",)


@extend_schema_view(retrieve=extend_schema(responses={200: NotificationSerializer, 404: None}))
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """The caller's own notifications, newest first; `?unread=true` for the unread ones."""

    queryset = Notification.objects.none()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return notifications_of(user=self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=None, responses={200: NotificationSerializer, 404: None})
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request, pk=None):
        notification = self.get_object()
        services.notification_mark_read(notification=notification)
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        count = services.notifications_mark_all_read(user=request.user)
        return Response({"marked_read": count})
