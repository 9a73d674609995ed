"""Shared API plumbing: pagination, the error handler, the object permission class."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from croportal.exceptions import ApplicationError


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=400)
    return drf_exception_handler(exc, context)


class CanChangeObject(permissions.BasePermission):
    """Reads are decided by the selector-built queryset; writes by the view's `can_change`.

    DRF's DjangoObjectPermissions also demands model-wide permissions and so refuses an
    object's rightful owner (STACK.md trap 1); this class looks only at the object.
    """

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return view.can_change(request.user, obj)


class ChangeReasonMixin(serializers.Serializer):
    """Regulated records: an update must say why (API.md, DESIGN §7)."""

    change_reason = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and not (attrs.get("change_reason") or "").strip():
            raise serializers.ValidationError(
                {"change_reason": ["A reason for the change is required."]}
            )
        return attrs


class IdFilter(django_filters.Filter):
    """`?trial=3`: a whole number in the id range, else a 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
