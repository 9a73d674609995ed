"""`/api/v1/documents/`: essential documents, filed and reviewed by a second person."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
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

    class Meta:
        model = EssentialDocument
        fields = ("id", "site", "kind", "title", "version", "effective_on", "expires_on",
                  "status", "is_current", "filed_by", "reviewed_by", "reviewed_at",
                  "revision", "change_reason")
        read_only_fields = ("filed_by", "reviewed_by", "reviewed_at", "revision")
        validators: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope_choices(self, "site", fixed_once_saved="site")

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
