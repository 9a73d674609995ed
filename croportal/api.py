"""Shared API plumbing: pagination, the error handler, the object permission class."""

from collections.abc import Mapping

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions, serializers
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from croportal.exceptions import ApplicationError


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class Counted:
    """Rows whose count is known already, for a paginator (a list that counts its rows in a
    cheaper way than COUNT over the page's own query)."""

    ordered = True

    def __init__(self, rows, count: int) -> None:
        self.rows, self.total = rows, count

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, key):
        return self.rows[key]


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=400)
    return drf_exception_handler(exc, context)


def expected_revision(request) -> int | None:
    """The version an `If-Match: "<version>"` header names; None without one (or `*`)."""
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        return None
    tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 10:
        raise serializers.ValidationError({"If-Match": [
            'Send the ETag of the record as read, e.g. If-Match: "3".']})
    return int(tag)


def with_etag(response: Response, instance) -> Response:
    """The record's version as its ETag, for the next write's If-Match."""
    revision = getattr(instance, "revision", None)
    if revision is not None:
        response["ETag"] = f'"{revision}"'
    return response


class VersionedRetrieveMixin:
    """GET of one record answers with its ETag."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()  # type: ignore[attr-defined]
        return with_etag(Response(self.get_serializer(instance).data),  # type: ignore[attr-defined]
                         instance)


class ServiceUpdateMixin:
    """PUT/PATCH through the record's update service: the reason for the change, the version
    the caller read (`If-Match`, 412 when stale), and only the fields sent are written."""

    def update(self, request, *args, **kwargs):
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer = self.get_serializer(  # type: ignore[attr-defined]
            instance, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("change_reason", "")
        updated = self.update_with(instance, by=request.user, reason=reason,
                                   expected_revision=expected_revision(request), **data)
        return with_etag(Response(self.represent(updated)), updated)

    def update_with(self, instance, **kwargs):
        raise NotImplementedError

    def represent(self, instance) -> dict:
        return self.get_serializer(instance).data  # type: ignore[attr-defined]


class LifecycleFieldsMixin(serializers.Serializer):
    """Status (and the dates it sets) move only through the record's transition action: they
    are read-only here, and sending a different value is a 400 saying where to go instead."""

    lifecycle_fields: tuple[str, ...] = ("status",)
    transition_hint = "POST …/transition/"

    def validate(self, attrs):
        attrs = super().validate(attrs)
        sent = self.initial_data if isinstance(self.initial_data, Mapping) else {}
        for name in self.lifecycle_fields:
            if name in sent and sent[name] != self._lifecycle_value(name):
                raise serializers.ValidationError({name: [
                    f"“{name}” changes only through {self.transition_hint}."]})
        return attrs

    def _lifecycle_value(self, name: str):
        """What the field holds now (a new record: its starting value), as the API shows it."""
        if self.instance is None or isinstance(self.instance, list | tuple):
            value = self.Meta.model._meta.get_field(name).get_default()  # type: ignore[attr-defined]
        else:
            value = getattr(self.instance, name)
        return None if value is None else self.fields[name].to_representation(value)


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


# ------------------------------------------------------------------ list query parameters

PAGING_PARAMETERS = frozenset({"page", "page_size", "ordering", "format"})


def filter_parameters(filterset) -> set[str]:
    """The query parameters a filterset reads: a range filter reads `<name>_after` and
    `<name>_before` (its widget's suffixes)."""
    names: set[str] = set()
    for name, declared in getattr(filterset, "base_filters", {}).items():
        suffixes = getattr(declared.field.widget, "suffixes", None)
        names |= {f"{name}_{suffix}" for suffix in suffixes} if suffixes else {name}
    return names


class KnownQueryParameters:
    """API.md: an unknown query parameter on a list is a 400 that names it, so a misspelt
    filter never returns every row. Known: paging, `ordering`, `format`, the view's filterset
    and what a view reads itself (`query_parameters`)."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return queryset
        filterset = getattr(view, "filterset_class", None)
        known = (PAGING_PARAMETERS | set(getattr(view, "query_parameters", ()))
                 | filter_parameters(filterset))
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise serializers.ValidationError({
                name[:50]: [f"Unknown query parameter; this list takes: "
                            f"{', '.join(sorted(known))}."] for name in unknown[:5]})
        return queryset

    def get_schema_operation_parameters(self, view):
        return []


class StrictOrdering(OrderingFilter):
    """`?ordering=field` or `-field` (comma-separated), on the fields the list shows; an
    unknown field is a 400; the id breaks ties so that pages never overlap."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        terms = [term.strip() for term in raw.split(",") if term.strip()]
        valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        wrong = [term for term in terms if term.lstrip("-") not in valid]
        if not terms or wrong:
            raise serializers.ValidationError({"ordering": [
                f"Sort by one of: {', '.join(sorted(valid))} (prefix - for descending)."]})
        return [*terms, "pk"]
