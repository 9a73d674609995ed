"""`/api/v1/documents/`: essential documents, filed and reviewed by a second person."""

import django_filters
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from croportal.api import (
    CanChangeObject,
    ChangeReasonMixin,
    IdFilter,
    ServiceUpdateMixin,
    VersionedRetrieveMixin,
)
from sites import services
from sites.api.sites import scope_choices
from sites.downloads import document_file_response
from sites.models import (
    EssentialDocument,
    Site,
)
from sites.selectors import (
    site_can_change,
    sites_changeable_by,
    sites_visible_to,
)


class EssentialDocumentSerializer(ChangeReasonMixin, serializers.ModelSerializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.none())
    is_current = serializers.SerializerMethodField()
    file = serializers.FileField(write_only=True, required=False, allow_empty_file=True,
                                 max_length=None, help_text="The document's file (multipart).")
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = EssentialDocument
        fields = ("id", "site", "kind", "title", "version", "effective_on", "expires_on",
                  "status", "is_current", "filed_by", "reviewed_by", "reviewed_at",
                  "file", "file_name", "file_size", "file_type", "file_sha256", "file_url",
                  "revision", "change_reason")
        read_only_fields = ("filed_by", "reviewed_by", "reviewed_at", "file_name", "file_size",
                            "file_type", "file_sha256", "revision")
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_choices(self, "site", fixed_once_saved="site")

    def get_is_current(self, document: EssentialDocument) -> bool:
        return document.is_current(timezone.localdate())

    def get_file_url(self, document: EssentialDocument) -> str | None:
        """Where the file is downloaded (by a caller who may read the site), or null."""
        if not document.file:
            return None
        return reverse("api:essential-document-file", args=[document.pk])


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

    @extend_schema(responses={(200, "application/octet-stream"): bytes, 404: None})
    @action(detail=True, methods=["get"], url_path="file")
    def file(self, request, pk=None, **kwargs):
        """The document's file, to whoever may read its site (404 otherwise, or without one)."""
        return document_file_response(self.get_object())
