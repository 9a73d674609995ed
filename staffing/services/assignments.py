"""Assignments: who works on which trial (or site) in which role, and the object permissions that
follow from them (the only writer of the permission rows)."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from access.checks import grant_tables
from access.grants import forget_grants
from access.roles import permissions_for
from croportal.audit import audited_save
from croportal.concurrency import lock_for_update
from croportal.exceptions import ApplicationError
from staffing.models import (
    Assignment,
    Organisation,
    Role,
    User,
    site_model,
    trial_model,
)
from staffing.services.training import _affected_by, _escalating_to, training_escalations_refresh


def _check_assignment(*, user: User, trial, site, role: str) -> None:
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
    trial,
    role: str,
    by: User,
    site=None,
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


def permissions_sync(*, user: User, trial, today: date | None = None) -> None:
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
    trial_table, site_table = grant_tables()
    _sync_rows(trial_table, user, {trial.pk: want_trial}, [trial.pk])
    site_ids = list(site_model()._default_manager.filter(trial=trial).values_list("pk", flat=True))
    _sync_rows(site_table, user, want_site, site_ids)
    forget_grants()  # a page that reads grants after this write reads them anew


def _sync_rows(table, user: User, wanted: dict[int, set[str]], object_ids: list) -> None:
    model = table._meta.get_field("content_object").related_model
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
            trial = trial_model()._default_manager.get(pk=trial_id)
            permissions_sync(user=user, trial=trial, today=today)
            crm_of_trial = Assignment.objects.filter(user=user, trial_id=trial_id, role=Role.CRM)
            training_escalations_refresh(
                users=[user, *(_escalating_to(user=user, trial=trial)
                               if crm_of_trial.exists() else [])])
    return len(pairs)
