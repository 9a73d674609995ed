import functools
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from croportal.audit import audited_save
from croportal.concurrency import lock_for_update
from croportal.exceptions import ApplicationError, SignatureRefused
from reminders.models import Deadline, Notification
from reminders.policies import Kind as DeadlineKind
from reminders.services import deadline_close, deadline_upsert
from sites.models import Site, SiteUserObjectPermission
from staffing.models import (
    Assignment,
    Organisation,
    Role,
    Signature,
    SignatureInvalidation,
    SigningAttempts,
    SigningLock,
    TrainingRecord,
    User,
    content_hash,
)
from staffing.permissions import permissions_for
from trials.models import Trial, TrialUserObjectPermission

P = ParamSpec("P")
R = TypeVar("R")


def _check_assignment(*, user: User, trial: Trial, site: Site | None, role: str) -> None:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}.", field="role")
    if site is not None and site.trial_id != trial.pk:
        raise ApplicationError("The site does not belong to this trial.", field="site")
    if site is not None and role != Role.CRA:
        raise ApplicationError("Only a CRA can be assigned to a single site.", field="site")
    organisation = user.organisation
    if role == Role.SPONSOR_VIEWER:
        if organisation is None or organisation.pk != trial.sponsor_id:
            raise ApplicationError(
                "A sponsor viewer can only be assigned to their own organisation's trials.",
                field="user",
            )
    elif organisation is None or organisation.kind != Organisation.Kind.CRO:
        raise ApplicationError(
            "Only CRO staff can hold the CRM, CRA or medical monitor role.", field="user"
        )


@transaction.atomic
def assignment_start(
    *,
    user: User,
    trial: Trial,
    role: str,
    by: User,
    site: Site | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    allocation: Decimal = Decimal("1"),
) -> Assignment:
    """Put a person on a trial in a role and grant that role's object permissions."""
    _check_assignment(user=user, trial=trial, site=site, role=role)
    start_date = start_date or timezone.localdate()
    if end_date is not None and end_date < start_date:
        raise ApplicationError("The end date is before the start date.", field="end_date")
    if not Decimal("0") < Decimal(allocation) <= Decimal("1"):
        raise ApplicationError("Allocation is a fraction of an FTE: above 0, at most 1.",
                               field="allocation")
    assignment = Assignment(user=user, trial=trial, site=site, role=role, start_date=start_date,
                            end_date=end_date, allocation=allocation)
    audited_save(assignment, by=by, reason="Assignment started")
    permissions_sync(user=user, trial=trial)
    training_escalations_refresh(users=_affected_by(assignment))
    return assignment


@transaction.atomic
def assignment_end(*, assignment: Assignment, end_date: date, by: User, reason: str,
                   expected_revision: int | None = None) -> Assignment:
    """End an assignment; its permissions go unless another live assignment still grants them."""
    given, assignment = assignment, lock_for_update(
        assignment, expected_revision=expected_revision, related=("user", "trial"))
    if end_date < assignment.start_date:
        raise ApplicationError("The end date is before the start date.", field="end_date")
    assignment.end_date = end_date
    audited_save(assignment, by=by, reason=reason, update_fields=["end_date", "updated_at"])
    permissions_sync(user=assignment.user, trial=assignment.trial)
    training_escalations_refresh(users=_affected_by(assignment))
    given.refresh_from_db()  # the caller's copy shows what was written
    return assignment


def permissions_sync(*, user: User, trial: Trial, today: date | None = None) -> None:
    """Make the user's object permissions on the trial and its sites exactly those granted by
    their assignments live today. Only the assignment services call this."""
    today = today or timezone.localdate()
    want_trial: set[str] = set()
    want_site: dict[int, set[str]] = defaultdict(set)
    for assignment in Assignment.objects.active_on(today).filter(user=user, trial=trial):
        trial_codes, site_codes = permissions_for(
            assignment.role, site_scoped=assignment.site_id is not None
        )
        want_trial |= trial_codes
        if assignment.site_id:
            want_site[assignment.site_id] |= site_codes
    _sync_rows(TrialUserObjectPermission, Trial, user, {trial.pk: want_trial}, [trial.pk])
    site_ids = list(Site.objects.filter(trial=trial).values_list("pk", flat=True))
    _sync_rows(SiteUserObjectPermission, Site, user, want_site, site_ids)


def _sync_rows(table, model, user: User, wanted: dict[int, set[str]], object_ids: list) -> None:
    content_type = ContentType.objects.get_for_model(model)
    permissions = {p.codename: p for p in Permission.objects.filter(content_type=content_type)}
    held = table.objects.filter(user=user, content_object_id__in=object_ids)
    have = {(row.content_object_id, row.permission.codename): row.pk
            for row in held.select_related("permission")}
    want = {(oid, code) for oid, codes in wanted.items() for code in codes}
    stale = [pk for key, pk in have.items() if key not in want]
    table.objects.filter(pk__in=stale).delete()
    table.objects.bulk_create(
        [table(user=user, permission=permissions[code], content_object_id=oid)
         for oid, code in want - set(have)]
    )


def assignments_apply_dates(*, today: date | None = None) -> int:
    """Grant assignments that have started and revoke those that have ended (run hourly)."""
    today = today or timezone.localdate()
    pairs = set(
        Assignment.objects.filter(start_date__gt=today - timedelta(days=2), start_date__lte=today)
        .values_list("user_id", "trial_id")
    ) | set(
        Assignment.objects.filter(end_date__lt=today, end_date__gte=today - timedelta(days=2))
        .values_list("user_id", "trial_id")
    )
    for user_id, trial_id in sorted(pairs):
        with transaction.atomic():
            user = User.objects.get(pk=user_id)
            trial = Trial.objects.get(pk=trial_id)
            permissions_sync(user=user, trial=trial, today=today)
            crm_of_trial = Assignment.objects.filter(user=user, trial=trial, role=Role.CRM)
            training_escalations_refresh(
                users=[user, *(_escalating_to(user=user, trial=trial)
                               if crm_of_trial.exists() else [])])
    return len(pairs)


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


def signing_lock_of(user: User) -> SigningLock | None:
    """The account's open signing lock, if signing is blocked."""
    return SigningLock.objects.filter(user=user, unlocked_at__isnull=True).first()


@signing_action
def signature_apply(*, obj, by: User, password: str, meaning: str, comment: str = "") -> Signature:
    """E-sign a record (21 CFR 11.200): re-enter the password; bound to a hash of the content.
    Refused while the account's signing is locked, even with the right password."""
    if meaning not in Signature.Meaning.values:
        raise ApplicationError(f"Unknown signature meaning {meaning!r}.", field="meaning")
    lock = signing_lock_of(by)
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
            or signing_lock_of(user) is not None):
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
               f"{lock.locked_at:%Y-%m-%d %H:%M:%S} UTC. Unlock it in the admin.")
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
    back (issue 9). Called by croportal.audit.audited_save; returns how many were voided."""
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


# ------------------------------------------------------------------------------ training records

TRAINING_EDITABLE_FIELDS = frozenset({"kind", "title", "completed_on", "expires_on"})
# Dates outside these bounds are typing errors, and would overflow the reminder arithmetic.
EARLIEST_TRAINING = date(1900, 1, 1)
LONGEST_VALIDITY_YEARS = 100


def _add_years(day: date, years: int) -> date:
    """The same day so many years on; 29 February becomes 28 February in a common year."""
    if day.year + years > date.max.year:
        return date.max  # only for a date far in the future, which the checks then refuse
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def training_default_expiry(*, kind: str, completed_on: date) -> date | None:
    """GCP training is refreshed every GCP_TRAINING_VALIDITY_YEARS (ICH E6(R2) 2.8 asks for
    current training; the CRO's SOP sets the interval); other kinds lapse only when told."""
    if kind != TrainingRecord.Kind.GCP:
        return None
    return _add_years(completed_on, settings.GCP_TRAINING_VALIDITY_YEARS)


def user_timezone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def training_record_check(record: TrainingRecord) -> None:
    """The rules on a training record's kind and dates (an ApplicationError names the field)."""
    if record.kind not in TrainingRecord.Kind.values:
        raise ApplicationError(f"Unknown training kind {record.kind!r}.", field="kind")
    today = timezone.localdate(timezone=user_timezone(record.user))
    if record.completed_on > today:
        raise ApplicationError("The completion date is in the future.", field="completed_on")
    if record.completed_on < EARLIEST_TRAINING:
        raise ApplicationError("The completion date is before 1900.", field="completed_on")
    if record.expires_on is None:
        return
    if record.expires_on < record.completed_on:
        raise ApplicationError("The expiry date is before the completion date.",
                               field="expires_on")
    if record.expires_on > _add_years(record.completed_on, LONGEST_VALIDITY_YEARS):
        raise ApplicationError(
            f"The expiry date is more than {LONGEST_VALIDITY_YEARS} years after completion.",
            field="expires_on")


@transaction.atomic
def training_record_create(
    *, user: User, kind: str, completed_on: date, by: User, expires_on: date | None = None,
    title: str = "",
) -> TrainingRecord:
    """Record a completed training; its expiry becomes a reminder deadline."""
    if expires_on is None and kind in TrainingRecord.Kind.values:
        expires_on = training_default_expiry(kind=kind, completed_on=completed_on)
    record = TrainingRecord(user=user, kind=kind, completed_on=completed_on,
                            expires_on=expires_on, title=(title or "").strip())
    training_record_check(record)
    audited_save(record, by=by, reason="Training recorded")
    _training_deadlines_sync(user=user, kind=record.kind, title=record.title)
    return record


@transaction.atomic
def training_record_update(*, record: TrainingRecord, by: User, reason: str,
                           expected_revision: int | None = None, **fields) -> TrainingRecord:
    """Correct a training record (with a reason); its expiry deadline follows."""
    unknown = set(fields) - TRAINING_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable on a training record: {sorted(unknown)}")
    given, record = record, lock_for_update(record, expected_revision=expected_revision,
                                            related=("user",))
    before = (record.kind, record.title)
    old_default = training_default_expiry(kind=record.kind, completed_on=record.completed_on)
    for name, value in fields.items():
        setattr(record, name, value.strip() if name == "title" else value)
    # An expiry that was the GCP default follows a corrected completion date.
    if record.expires_on is None or (
        "expires_on" not in fields and record.expires_on == old_default
    ):
        record.expires_on = training_default_expiry(kind=record.kind,
                                                    completed_on=record.completed_on)
    training_record_check(record)
    audited_save(record, by=by, reason=reason)
    _training_deadlines_sync(user=record.user, kind=before[0], title=before[1])
    if (record.kind, record.title) != before:
        _training_deadlines_sync(user=record.user, kind=record.kind, title=record.title)
    given.refresh_from_db()  # the caller's copy shows what was written
    return record


def _training_deadlines_sync(*, user: User, kind: str, title: str) -> None:
    """Only the latest-expiring record of one training keeps an expiry deadline: renewing a
    certificate ends the old one's reminders (done), and back-filling an old certificate
    never starts any. Protocol and "other" trainings are told apart by their title too."""
    same = TrainingRecord.objects.filter(user=user, kind=kind)
    if kind in (TrainingRecord.Kind.PROTOCOL, TrainingRecord.Kind.OTHER):
        same = same.filter(title__iexact=title)
    records = list(same.order_by(F("expires_on").desc(nulls_last=True), "-completed_on", "-pk"))
    for index, record in enumerate(records):
        if index == 0 and record.expires_on is not None:
            _training_deadline_open(record=record, user=user, expires_on=record.expires_on)
        else:
            state = "done" if record.expires_on is not None else "cancelled"
            deadline_close(kind=DeadlineKind.TRAINING_EXPIRY, subject=record, state=state)


def _affected_by(assignment: Assignment) -> list[User]:
    """Whose training deadlines an assignment change may re-route: the person's own (their home
    trial may change) and, for a CRM, those of the people whose escalations go to them there."""
    users = [assignment.user]
    if assignment.role == Role.CRM:
        users += _escalating_to(user=assignment.user, trial=assignment.trial)
    return users


def _escalating_to(*, user: User, trial: Trial) -> list[User]:
    owner_ids = Deadline.objects.filter(
        kind=DeadlineKind.TRAINING_EXPIRY, state=Deadline.State.OPEN, trial=trial,
        escalation_user=user).values("owner_id")
    # Also everyone on the trial: a new CRM may be the first the trial's people can escalate to.
    on_trial = Assignment.objects.filter(trial=trial).values("user_id")
    return list(User.objects.filter(Q(pk__in=owner_ids) | Q(pk__in=on_trial)).exclude(pk=user.pk))


def training_escalations_refresh(*, users: list[User]) -> None:
    """Point each open training-expiry deadline of these people at their current home trial
    and its CRM (assignments changed). Owner reminders are not restarted."""
    records = TrainingRecord.objects.filter(
        user__in=[u.pk for u in users],
        pk__in=Deadline.objects.filter(
            kind=DeadlineKind.TRAINING_EXPIRY, state=Deadline.State.OPEN,
            content_type=ContentType.objects.get_for_model(TrainingRecord),
        ).values("object_id"),
    ).select_related("user")
    for record in records:
        if record.expires_on is not None:
            _training_deadline_open(record=record, user=record.user, expires_on=record.expires_on)


def _training_deadline_open(*, record: TrainingRecord, user: User, expires_on: date) -> None:
    trial, escalation_user = _home_trial_and_crm(user=user)
    deadline_upsert(
        kind=DeadlineKind.TRAINING_EXPIRY, subject=record, owner=user,
        due_at=datetime.combine(expires_on, time.min, tzinfo=user_timezone(user)),
        title=f"{record.get_kind_display()} training expires: {user.full_name}",
        trial=trial, escalation_user=escalation_user, url=reverse("staffing:training"),
    )


def _home_trial_and_crm(*, user: User) -> tuple[Trial | None, User | None]:
    """The person's home trial (their largest active allocation; ties: earliest start, then
    lowest id) and a CRM on it to escalate to (lowest assignment id; never the person)."""
    today = timezone.localdate()
    home = (Assignment.objects.active_on(today).filter(user=user).select_related("trial")
            .order_by("-allocation", "start_date", "pk").first())
    if home is None:
        return None, None
    crm = (Assignment.objects.active_on(today).filter(trial=home.trial_id, role=Role.CRM)
           .exclude(user=user).select_related("user").order_by("pk").first())
    return home.trial, crm.user if crm else None
