"""The daily digest: each person's overdue and coming deadlines at their local digest hour."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from croportal.formats import format_date
from croportal.timezones import local_time, zone_of
from reminders.models import (
    Digest,
)
from reminders.selectors import (
    active_people,
    digest_contents,
)
from reminders.services.deadlines import logger
from reminders.services.delivery import absolute_url, preference_of


def _local_today(user, now: datetime) -> tuple[date, int]:
    local = local_time(now, user)
    return local.date(), local.hour


def digest_send(*, user, now: datetime | None = None) -> Digest | None:
    """Send `user` today's digest (their local date) unless it went already. The Digest row is
    the claim: its unique (user, day) lets one run in, and it commits only with the e-mail."""
    now = now or timezone.now()
    day, hour = _local_today(user, now)
    if hour < settings.DIGEST_HOUR:
        return None
    preference = preference_of(user=user)
    if not preference.daily_digest or not user.email or not user.is_active:
        return None
    contents = digest_contents(user=user, now=now)
    try:
        with transaction.atomic():
            digest = Digest.objects.create(user=user, day=day,
                                           deadline_count=len(contents["deadlines"]))
            if contents["deadlines"] or contents["notifications"]:
                with timezone.override(zone_of(user)):  # due times on the reader's clock
                    body = render_to_string("reminders/email/digest.txt", {
                        **contents, "user": user, "day": day,
                        "link": absolute_url(path="/deadlines/"),
                    })
                subject = (f"[CRO Portal] Your deadlines for {format_date(day)}: "
                           f"{contents['overdue_count']} overdue, "
                           f"{len(contents['deadlines']) - contents['overdue_count']} coming up")
                EmailMessage(subject=subject, body=body, to=[user.email]).send()
                digest.emailed = True
                digest.save(update_fields=["emailed"])
    except IntegrityError:
        return None  # today's digest was claimed by another run
    return digest


def digests_send(*, now: datetime | None = None) -> int:
    """Every active person whose local digest hour has come and who has had none today."""
    now = now or timezone.now()
    sent = 0
    users = active_people().exclude(email="").select_related(
        "notification_preference")
    already = set(Digest.objects.filter(day__gte=(now - timedelta(days=1)).date())
                  .values_list("user_id", "day"))
    for user in users:
        day, _ = _local_today(user, now)
        if (user.pk, day) in already:
            continue
        try:
            if digest_send(user=user, now=now):
                sent += 1
        except Exception:  # one person's mail failure must not stop everyone's digest
            logger.exception("digest for user %s failed; it is tried again next run", user.pk)
    return sent
