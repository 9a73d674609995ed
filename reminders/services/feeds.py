"""Calendar feeds: a secret URL per person, regenerated or revoked."""

import hashlib
import secrets

from django.db import transaction

from reminders.models import (
    CalendarFeed,
)


def calendar_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def calendar_feed_regenerate(*, user) -> str:
    """A new secret for the user's calendar URL; the old URL stops working at once."""
    secret = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"secret_hash": calendar_secret_hash(secret)})
    return secret


@transaction.atomic
def calendar_feed_revoke(*, user) -> None:
    CalendarFeed.objects.filter(user=user).delete()
