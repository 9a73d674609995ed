"""Electronic signatures (21 CFR 11.200): signing actions, the password re-entry, failure counting
and the signing lock, invalidation when a signed record changes."""

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from croportal.audit import audited_save
from croportal.exceptions import ApplicationError, SignatureRefused
from croportal.formats import format_datetime
from reminders.models import Notification
from staffing.models import (
    Signature,
    SignatureInvalidation,
    SigningAttempts,
    SigningLock,
    User,
    content_hash,
)

P = ParamSpec("P")


R = TypeVar("R")


class SigningLocked(ApplicationError):
    """Signing is blocked for the account until an administrator unlocks it (403)."""

    def __init__(self, *, failures: int) -> None:
        super().__init__(
            f"Signing is locked for your account after {failures} failed password entries; "
            "nothing was signed. An administrator must unlock it.", status=403)


class SignaturePasswordRefused(SignatureRefused):
    """A wrong password at an e-signature: counted against the signer once rolled back."""

    def __init__(self, *, signer: User, record) -> None:
        super().__init__()
        self.signer = signer
        self.record = record


_signing_depth: ContextVar[int] = ContextVar("signing_depth", default=0)


def signing_action(func: Callable[P, R]) -> Callable[P, R]:
    """Use instead of @transaction.atomic on every service that e-signs. A wrong password
    rolls the action back (nothing is saved) and is then counted against the signer in a
    transaction of its own, which commits (21 CFR 11.300(d)); the outermost action counts."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        outermost = _signing_depth.get() == 0
        depth = _signing_depth.set(_signing_depth.get() + 1)
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except SignaturePasswordRefused as refusal:
            if outermost:
                lock = signature_failure_record(user=refusal.signer, record=refusal.record)
                if lock is not None:
                    raise SigningLocked(failures=lock.failures) from refusal
            raise
        finally:
            _signing_depth.reset(depth)

    return wrapper


def signing_lock_of(*, user: User) -> SigningLock | None:
    """The account's open signing lock, if signing is blocked."""
    return SigningLock.objects.filter(user=user, unlocked_at__isnull=True).first()


@signing_action
def signature_apply(*, obj, by: User, password: str, meaning: str, comment: str = "") -> Signature:
    """E-sign a record (21 CFR 11.200): re-enter the password; bound to a hash of the content.
    Refused while the account's signing is locked, even with the right password."""
    if meaning not in Signature.Meaning.values:
        raise ApplicationError(f"Unknown signature meaning {meaning!r}.", field="meaning")
    lock = signing_lock_of(user=by)
    if lock is not None:
        raise SigningLocked(failures=lock.failures)
    if not password or not by.check_password(password):
        raise SignaturePasswordRefused(signer=by, record=obj)
    SigningAttempts.objects.filter(user=by, consecutive_failures__gt=0).update(
        consecutive_failures=0)
    return Signature.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        signer=by,
        printed_name=by.full_name,
        meaning=meaning,
        signed_at=timezone.now(),
        content_hash=content_hash(obj.signature_content()),
        comment=comment,
    )


@transaction.atomic
def signature_failure_record(*, user: User, record) -> SigningLock | None:
    """Count one failed password re-entry; at SIGNATURE_FAILURE_LIMIT lock signing and alert
    the administrators at once. Returns the new lock, if this failure set it."""
    attempts, _ = SigningAttempts.objects.get_or_create(user=user)
    now = timezone.now()
    # Row lock + F(): two concurrent failures both count, and only one of them locks.
    SigningAttempts.objects.filter(pk=attempts.pk).update(
        consecutive_failures=F("consecutive_failures") + 1, last_failure_at=now)
    attempts = SigningAttempts.objects.select_for_update().get(pk=attempts.pk)
    if (attempts.consecutive_failures < settings.SIGNATURE_FAILURE_LIMIT
            or signing_lock_of(user=user) is not None):
        return None
    lock = SigningLock(
        user=user, locked_at=now, failures=attempts.consecutive_failures,
        content_type=ContentType.objects.get_for_model(record) if record is not None else None,
        object_id=getattr(record, "pk", None), record_label=str(record or "")[:300],
    )
    audited_save(lock, by=user, reason="Signing locked after repeated wrong passwords")
    _signing_lock_alert(lock)
    return lock


def _signing_lock_alert(lock: SigningLock) -> None:
    """Every active superuser: an in-app notification now, an e-mail once committed."""
    admins = list(User.objects.filter(is_superuser=True, is_active=True))
    url = reverse("admin:staffing_signinglock_change", args=[lock.pk])
    message = (f"Signing locked for {lock.user.full_name} ({lock.user.username}) after "
               f"{lock.failures} wrong passwords, at {lock.record_label or 'a record'}, "
               f"{format_datetime(lock.locked_at, zone='UTC')}. Unlock it in the admin.")
    Notification.objects.bulk_create([
        Notification(user=admin, kind="signing_locked", message=message[:500], url=url)
        for admin in admins
    ])
    recipients = [admin.email for admin in admins if admin.email]
    if recipients:
        body = f"{message}\n\n{settings.PORTAL_BASE_URL.rstrip('/')}{url}\n"
        transaction.on_commit(lambda: EmailMessage(
            subject=f"[CRO Portal] Signing locked: {lock.user.username}", body=body,
            from_email=settings.DEFAULT_FROM_EMAIL, to=recipients).send())


@transaction.atomic
def signing_lock_release(*, lock: SigningLock, by: User, reason: str) -> SigningLock:
    """An administrator unlocks signing for the account; its failure count starts again."""
    lock = SigningLock.objects.select_for_update().get(pk=lock.pk)
    if lock.unlocked_at is not None:
        return lock
    lock.unlocked_at, lock.unlocked_by, lock.unlock_reason = timezone.now(), by, reason
    audited_save(lock, by=by, reason=reason)
    SigningAttempts.objects.filter(user=lock.user_id).update(consecutive_failures=0)
    return lock


def signatures_invalidate_if_changed(*, instance, by, reason: str = "") -> int:
    """After a signed record is saved: record the invalidation of each of its signatures whose
    content hash no longer matches. Recorded once and kept, even if the values are changed
    back. Called by croportal.audit.audited_save; returns how many were voided."""
    if not hasattr(instance, "signature_content") or instance.pk is None:
        return 0
    current = content_hash(instance.signature_content())
    stale = list(Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk,
        invalidation__isnull=True,
    ).exclude(content_hash=current))
    if not stale:
        return 0
    history = getattr(instance, "history", None)
    latest = history.order_by("-history_id").first() if history is not None else None
    now = timezone.now()
    rows = [
        SignatureInvalidation(
            signature=signature, invalidated_at=now, changed_by=by, change_reason=reason,
            record_revision=getattr(instance, "revision", None), content_hash=current,
            history_id=getattr(latest, "history_id", None))
        for signature in stale
    ]
    SignatureInvalidation.objects.bulk_create(rows)
    return len(rows)
