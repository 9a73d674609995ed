from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from access.checks import granted, on_trials, rows_with
from access.codenames import MANAGE_STAFF, VIEW_TRIAL
from access.roles import Role
from staffing.models import Assignment, Signature, TrainingRecord, User, site_model, trial_model


def assignments_visible_to(*, user) -> QuerySet[Assignment]:
    """Your own assignments, and every assignment on a trial whose staff you manage."""
    return granted(queryset=Assignment.objects.all(), user=user, where=lambda: (
        Q(user=user) | on_trials(user=user, codename=MANAGE_STAFF)))


def active_assignments_of(*, user: User) -> QuerySet[Assignment]:
    return (
        Assignment.objects.active_on(timezone.localdate())
        .filter(user=user)
        .select_related("trial", "site")
    )


def roles_of(*, user) -> set[str]:
    """The roles the user holds today on any trial (drives navigation and the home page)."""
    if not user.is_authenticated:
        return set()
    return set(active_assignments_of(user=user).values_list("role", flat=True))


# ------------------------------------------------------------------------------ training records

def people_on_managed_trials(*, user, today: date | None = None) -> QuerySet:
    """Subquery of the ids of people actively assigned to trials whose staff the user manages."""
    today = today or timezone.localdate()
    return (
        Assignment.objects.active_on(today)
        .filter(on_trials(user=user, codename=MANAGE_STAFF))
        .values("user_id")
    )


def training_records_visible_to(*, user) -> QuerySet[TrainingRecord]:
    """Your own training records, and those of the people on trials whose staff you manage."""
    def where() -> Q:
        if user.is_sponsor_user:
            return Q(user=user)
        return Q(user=user) | Q(user__in=people_on_managed_trials(user=user))

    return granted(queryset=TrainingRecord.objects.all(), user=user, where=where)


def training_people_for(*, user) -> QuerySet[User]:
    """The people whose training records the user may add or correct: themself (not a sponsor
    user), everyone on a trial whose staff they manage; a superuser anyone."""
    def where() -> Q:
        if user.is_sponsor_user:
            return Q(pk__in=[])
        return Q(pk=user.pk) | Q(pk__in=people_on_managed_trials(user=user))

    return granted(queryset=User.objects.all(), user=user, where=where)


def training_can_change(*, user, person: User) -> bool:
    return training_people_for(user=user).filter(pk=person.pk).exists()


def training_rows(*, records, today: date) -> list[dict]:
    """Display rows: each record with its status; a record replaced by a later-expiring one of
    the same training shows as renewed (its reminders have ended)."""
    records = list(records)
    latest: dict[tuple, date] = {}
    for record in records:
        key = _training_key(record)
        if record.expires_on and (key not in latest or record.expires_on > latest[key]):
            latest[key] = record.expires_on
    rows = []
    for record in records:
        key = _training_key(record)
        renewed = record.expires_on is not None and record.expires_on < latest[key]
        rows.append({"record": record,
                     "status": "renewed" if renewed else record.status_on(today)})
    return rows


def _training_key(record: TrainingRecord) -> tuple:
    titled = record.kind in (TrainingRecord.Kind.PROTOCOL, TrainingRecord.Kind.OTHER)
    return (record.user_id, record.kind, record.title.lower() if titled else "")


# ----------------------------------------------------------------------- trials, as staffing sees

def trials_seen_by(*, user) -> QuerySet:
    return rows_with(queryset=trial_model()._default_manager.all(), user=user, codename=VIEW_TRIAL,
                     via="pk")


def trials_managed_by(*, user) -> QuerySet:
    """The trials whose staff the user manages (assigns and ends): their CRM's."""
    return rows_with(queryset=trial_model()._default_manager.all(), user=user,
                     codename=MANAGE_STAFF,
                     via="pk")


def sites_of(*, trials: QuerySet) -> QuerySet:
    return site_model()._default_manager.filter(trial__in=trials)


def trial_crm(*, trial_id: int, today: date | None = None, excluding: User | None = None):
    """The trial's CRM: the longest-serving of those active today (earliest start, then lowest
    assignment id), never ``excluding``. The one rule for who owns, or is escalated, a trial's
    deadlines (its milestones', its sites' documents and re-consents, its people's training)."""
    return _longest_serving(trial_id=trial_id, role=Role.CRM, today=today, excluding=excluding)


def trial_medical_monitor(*, trial_id: int, today: date | None = None) -> User | None:
    """The trial's medical monitor, by the same rule: who owns its cases' medical reviews and
    regulatory reporting obligations."""
    return _longest_serving(trial_id=trial_id, role=Role.MEDICAL_MONITOR, today=today,
                            excluding=None)


def _longest_serving(*, trial_id: int, role: str, today: date | None,
                     excluding: User | None) -> User | None:
    today = today or timezone.localdate()
    assignments = Assignment.objects.active_on(today).filter(trial_id=trial_id, role=role)
    if excluding is not None:
        assignments = assignments.exclude(user=excluding)
    assignment = assignments.select_related("user").order_by("start_date", "pk").first()
    return assignment.user if assignment else None


def site_cra(*, site, today: date | None = None) -> User | None:
    """The CRA who monitors the site (site-scoped assignment first, then trial-wide)."""
    today = today or timezone.localdate()
    assignment = (
        Assignment.objects.active_on(today)
        .filter(trial_id=site.trial_id, role=Role.CRA)
        .filter(Q(site=site.pk) | Q(site__isnull=True))
        .select_related("user").order_by(F("site_id").asc(nulls_last=True), "start_date", "pk")
        .first()
    )
    return assignment.user if assignment else None


# ------------------------------------------------------------------------------ e-signatures

def signatures_of(*, record) -> list[dict]:
    """The signatures of one record, each with whether it still holds for its content."""
    signatures = Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    ).select_related("signer")
    return [{"signature": s, "valid": s.is_valid_for(record)} for s in signatures]
