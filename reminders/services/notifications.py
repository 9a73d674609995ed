"""Notifications read and preferences set by their person."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from reminders.models import (
    Notification,
    NotificationPreference,
)
from reminders.policies import check_kind


def notification_mark_read(*, notification: Notification, now: datetime | None = None) -> None:
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now or timezone.now())


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now())


@transaction.atomic
def preferences_update(*, user, email_enabled: bool, digest_only: bool, daily_digest: bool,
                       muted_kinds: list[str]) -> NotificationPreference:
    for kind in muted_kinds:
        check_kind(kind)
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    preference.email_enabled = email_enabled
    preference.digest_only = digest_only
    preference.daily_digest = daily_digest
    preference.muted_kinds = sorted(set(muted_kinds))
    preference.save()
    return preference
