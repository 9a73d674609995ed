"""Training records: GCP expiry, the expiry deadline and its escalation, the API and its scope."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from croportal.exceptions import ApplicationError
from reminders.models import Deadline
from reminders.policies import Kind
from staffing.models import Assignment, Role, TrainingRecord, User
from staffing.services import assignment_start, training_record_create, training_record_update
from tests.conftest import api_as
from tests.factories import (
    AdminFactory,
    SiteFactory,
    TrialFactory,
    UserFactory,
    assigned,
    cra_of,
    crm_of,
    monitor_of,
    sponsor_viewer_of,
)

GCP = TrainingRecord.Kind.GCP


def expiry_deadline(record: TrainingRecord) -> Deadline | None:
    return Deadline.objects.filter(
        kind=Kind.TRAINING_EXPIRY, object_id=record.pk,
        content_type=ContentType.objects.get_for_model(TrainingRecord),
    ).first()


def record_for(user, **extra) -> TrainingRecord:
    fields = {"kind": GCP, "completed_on": date(2026, 1, 15), **extra}
    return training_record_create(user=user, by=AdminFactory(), **fields)


@pytest.fixture
def cra(trial):
    return cra_of(SiteFactory(trial=trial))


@pytest.fixture
def monitor(trial):
    return monitor_of(trial)


@pytest.fixture
def sponsor(trial):
    """The trial's sponsor viewer."""
    return sponsor_viewer_of(trial)


@pytest.fixture
def outsider(db):
    """A sponsor viewer of another sponsor's trial."""
    return sponsor_viewer_of(TrialFactory())


@pytest.fixture
def other_trials_crm(db):
    return crm_of(TrialFactory())


# ------------------------------------------------------------------------ model and service rules

def test_gcp_training_expires_after_the_configured_years_by_default(cra, crm, settings):
    settings.GCP_TRAINING_VALIDITY_YEARS = 3
    record = record_for(cra, completed_on=date(2025, 6, 10))
    assert record.expires_on == date(2028, 6, 10)
    settings.GCP_TRAINING_VALIDITY_YEARS = 2
    assert record_for(crm, completed_on=date(2025, 6, 10)).expires_on == date(
        2027, 6, 10)


def test_gcp_training_completed_on_29_february_expires_on_28_february(cra):
    record = record_for(cra, completed_on=date(2024, 2, 29))
    assert record.expires_on == date(2027, 2, 28)


def test_an_explicit_expiry_wins_over_the_gcp_default(cra):
    record = record_for(cra, expires_on=date(2027, 1, 15))
    assert record.expires_on == date(2027, 1, 15)


def test_other_kinds_have_no_default_expiry_and_no_deadline(cra):
    record = record_for(cra, kind=TrainingRecord.Kind.PROTOCOL, title="A-001 v2")
    assert record.expires_on is None
    assert expiry_deadline(record) is None


def test_an_expiry_before_completion_is_refused_on_the_expiry_field(cra):
    with pytest.raises(ApplicationError) as refused:
        record_for(cra, expires_on=date(2025, 12, 31))
    assert refused.value.field == "expires_on"
    assert not TrainingRecord.objects.exists()


def test_a_completion_in_the_future_is_refused_on_the_completion_field(cra):
    with pytest.raises(ApplicationError) as refused:
        record_for(cra, completed_on=timezone.localdate() + timedelta(days=2))
    assert refused.value.field == "completed_on"


def test_the_database_refuses_an_expiry_before_completion(cra):
    record = record_for(cra)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRecord.objects.filter(pk=record.pk).update(expires_on=date(2020, 1, 1))


def test_the_database_refuses_a_capacity_outside_zero_to_one(cra):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=cra.pk).update(capacity=Decimal("1.5"))
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=cra.pk).update(capacity=0)


def test_an_edit_needs_a_reason_and_is_kept_in_history(cra, crm):
    record = record_for(cra)
    with pytest.raises(ApplicationError) as refused:
        training_record_update(record=record, by=crm, reason=" ", title="x")
    assert refused.value.field == "change_reason"
    training_record_update(record=record, by=crm, reason="Certificate re-read",
                           expires_on=date(2028, 12, 31))
    latest = record.history.first()
    assert latest.history_change_reason == "Certificate re-read"
    assert latest.history_user == crm
    assert latest.expires_on == date(2028, 12, 31)


def test_a_corrected_completion_date_moves_a_default_gcp_expiry(cra, admin):
    record = record_for(cra, completed_on=date(2025, 3, 1))
    training_record_update(record=record, by=admin, reason="Typo",
                           completed_on=date(2025, 4, 1))
    assert record.expires_on == date(2028, 4, 1)


# ---------------------------------------------------------------------------- expiry deadline

def test_the_expiry_deadline_is_owned_by_the_person_and_escalates_to_their_trials_crm(world):
    # Trial A has two CRMs: the admin (trial_create, today) and crm_a (assigned from earlier).
    # The trial's CRM is the longest-serving one, as for its milestones and sites.
    crms = Assignment.objects.filter(trial=world.trial_a, role=Role.CRM).order_by("start_date")
    assert crms[0].user == world.crm
    record = record_for(world.cra)
    deadline = expiry_deadline(record)
    assert deadline.state == Deadline.State.OPEN
    assert deadline.owner == world.cra
    assert deadline.trial == world.trial_a
    assert deadline.escalation_user == world.crm
    assert deadline.title == "GCP training expires: Cra Tester"
    assert deadline.url == "/staff/training/"


def test_the_deadline_falls_due_at_the_start_of_the_expiry_day_in_the_persons_time_zone(cra):
    cra.timezone = "Asia/Tokyo"
    cra.save(update_fields=["timezone"])
    record = record_for(cra, expires_on=date(2027, 3, 1))
    due = expiry_deadline(record).due_at
    assert due == datetime(2027, 3, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert due == datetime(2027, 2, 28, 15, tzinfo=ZoneInfo("UTC"))


def test_an_unknown_time_zone_falls_back_to_utc(cra):
    cra.timezone = "Mars/Olympus"
    cra.save(update_fields=["timezone"])
    record = record_for(cra, expires_on=date(2027, 3, 1))
    assert expiry_deadline(record).due_at == datetime(2027, 3, 1, tzinfo=ZoneInfo("UTC"))


def test_the_home_trial_is_the_largest_active_allocation(db):
    site_a, site_b = SiteFactory(), SiteFactory()
    crm_b = crm_of(site_b.trial)
    since = timezone.localdate() - timedelta(days=10)
    person = UserFactory(username="split_cra")
    assigned(person, site_a.trial, Role.CRA, site=site_a, since=since, allocation=Decimal("0.3"))
    assigned(person, site_b.trial, Role.CRA, site=site_b, since=since, allocation=Decimal("0.6"))
    deadline = expiry_deadline(record_for(person))
    assert (deadline.trial, deadline.escalation_user) == (site_b.trial, crm_b)


def test_equal_allocations_pick_the_earliest_start(db):
    site_a, site_b = SiteFactory(), SiteFactory()
    today = timezone.localdate()
    person = UserFactory(username="even_cra")
    assigned(person, site_a.trial, Role.CRA, site=site_a, since=today - timedelta(days=5),
             allocation=Decimal("0.5"))
    assigned(person, site_b.trial, Role.CRA, site=site_b, since=today - timedelta(days=9),
             allocation=Decimal("0.5"))
    assert expiry_deadline(record_for(person)).trial == site_b.trial


def test_a_crm_is_not_their_own_escalation(world):
    # The admin is CRM of A and B since their creation (today): the tie goes to the lowest id.
    deadline = expiry_deadline(record_for(world.admin))
    assert deadline.trial == world.trial_a
    assert deadline.escalation_user == world.crm


def test_a_lone_crm_has_a_home_trial_and_no_escalation(db):
    trial = TrialFactory(protocol_number="L-1", title="Lonely", phase="I")
    lone = UserFactory(username="lone_crm")
    assignment_start(user=lone, trial=trial, role=Role.CRM, by=AdminFactory())
    deadline = expiry_deadline(record_for(lone))
    assert (deadline.trial, deadline.escalation_user) == (trial, None)


def test_someone_without_an_assignment_has_no_trial_and_no_escalation(db):
    deadline = expiry_deadline(record_for(UserFactory(username="benched")))
    assert deadline.owner.username == "benched"
    assert (deadline.trial, deadline.escalation_user) == (None, None)


def test_renewing_closes_the_old_certificates_deadline(cra):
    old = record_for(cra, completed_on=date(2023, 5, 1))
    assert expiry_deadline(old).state == Deadline.State.OPEN
    new = record_for(cra, completed_on=date(2026, 4, 20))
    assert expiry_deadline(old).state == Deadline.State.DONE
    assert expiry_deadline(new).state == Deadline.State.OPEN
    assert expiry_deadline(new).due_at.date() == date(2029, 4, 20)


def test_renewing_one_kind_leaves_another_kinds_deadline_open(cra):
    iata = record_for(cra, kind=TrainingRecord.Kind.IATA,
                      expires_on=date(2027, 1, 1))
    record_for(cra, completed_on=date(2026, 4, 20))
    assert expiry_deadline(iata).state == Deadline.State.OPEN


def test_back_filling_an_older_certificate_starts_no_reminders(cra):
    current = record_for(cra, completed_on=date(2026, 4, 20))
    older = record_for(cra, completed_on=date(2020, 4, 20))
    assert expiry_deadline(current).state == Deadline.State.OPEN
    assert getattr(expiry_deadline(older), "state", None) != Deadline.State.OPEN


def test_moving_the_expiry_moves_the_deadline_and_removing_it_closes_it(cra, crm):
    record = record_for(cra, kind=TrainingRecord.Kind.IATA,
                        expires_on=date(2027, 1, 1))
    training_record_update(record=record, by=crm, reason="Extended",
                           expires_on=date(2027, 6, 1))
    assert expiry_deadline(record).due_at.date() == date(2027, 6, 1)
    training_record_update(record=record, by=crm, reason="Does not expire",
                           expires_on=None)
    assert expiry_deadline(record).state == Deadline.State.CANCELLED


# ---------------------------------------------------------------------------------------- API

URL = "/api/v1/training-records/"


def test_api_create_returns_the_contract_fields_and_opens_the_deadline(cra):
    response = api_as(cra).post(URL, {
        "user": cra.pk, "kind": "gcp", "completed_on": "2026-02-01"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "user", "kind", "completed_on", "expires_on", "title"} <= set(body)
    assert "change_reason" not in body
    assert body["expires_on"] == "2029-02-01"
    assert expiry_deadline(TrainingRecord.objects.get(pk=body["id"])).owner == cra


def test_api_crm_records_training_for_their_team(crm, cra):
    response = api_as(crm).post(URL, {
        "user": cra.pk, "kind": "iata", "completed_on": "2026-02-01",
        "expires_on": "2028-02-01"}, format="json")
    assert response.status_code == 201, response.content
    assert TrainingRecord.objects.get().history.first().history_user == crm


@pytest.mark.parametrize("persona", ["monitor", "sponsor", "outsider"])
def test_api_create_for_someone_outside_your_scope_is_a_400_on_user(cra, request, persona):
    response = api_as(request.getfixturevalue(persona)).post(URL, {
        "user": cra.pk, "kind": "gcp", "completed_on": "2026-02-01"}, format="json")
    assert response.status_code == 400
    assert "user" in response.json()
    assert not TrainingRecord.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"completed_on": "2026-02-01", "expires_on": "2026-01-01"}, "expires_on"),
    ({"completed_on": "2999-01-01"}, "completed_on"),
    ({"completed_on": "9999-12-31"}, "completed_on"),
    ({"completed_on": "0001-01-01"}, "completed_on"),
    ({"completed_on": "2026-02-01", "expires_on": "9999-12-31"}, "expires_on"),
    ({"completed_on": "not a date"}, "completed_on"),
    ({"completed_on": "2026-02-01", "kind": "yoga"}, "kind"),
])
def test_api_bad_input_is_a_400_naming_the_field(cra, body, field):
    response = api_as(cra).post(URL, {"user": cra.pk, "kind": "gcp", **body},
                                format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_api_patch_needs_a_change_reason(cra, crm):
    record = record_for(cra)
    client = api_as(crm)
    response = client.patch(f"{URL}{record.pk}/", {"title": "GCP refresher"}, format="json")
    assert response.status_code == 400
    assert "change_reason" in response.json()
    response = client.patch(f"{URL}{record.pk}/", {
        "expires_on": "2027-01-15", "change_reason": "Shorter validity per sponsor SOP"},
        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["expires_on"] == "2027-01-15"
    assert expiry_deadline(record).due_at.date() == date(2027, 1, 15)


def test_api_patch_with_bad_dates_is_a_400_naming_the_field(cra):
    record = record_for(cra)
    response = api_as(cra).patch(f"{URL}{record.pk}/", {
        "expires_on": "2020-01-01", "change_reason": "Oops"}, format="json")
    assert response.status_code == 400
    assert "expires_on" in response.json()


def test_api_cannot_move_a_record_to_another_person(cra, crm, monitor):
    record = record_for(cra)
    response = api_as(crm).patch(f"{URL}{record.pk}/", {
        "user": monitor.pk, "title": "x", "change_reason": "Try"}, format="json")
    assert response.status_code == 200
    record.refresh_from_db()
    assert record.user == cra


def test_api_has_no_delete(cra, admin):
    record = record_for(cra)
    assert api_as(admin).delete(f"{URL}{record.pk}/").status_code == 405


def test_api_user_filter(cra, monitor, crm):
    mine = record_for(cra)
    record_for(monitor)
    client = api_as(crm)
    ids = [row["id"] for row in client.get(URL, {"user": cra.pk}).json()["results"]]
    assert ids == [mine.pk]
    assert client.get(URL, {"user": "abc"}).status_code == 400


# -------------------------------------------------------------------------------------- scope

def test_outsider_cannot_see_anyone_elses_records(cra, outsider):
    record = record_for(cra)
    client = api_as(outsider)
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{record.pk}/").status_code == 404


def test_crm_sees_their_teams_records_and_not_other_trials(cra, other_trials_crm, crm):
    on_a = record_for(cra)
    on_b = record_for(other_trials_crm)
    ids = {row["id"] for row in api_as(crm).get(URL).json()["results"]}
    assert on_a.pk in ids
    assert on_b.pk not in ids


def test_a_colleague_without_manage_staff_sees_only_their_own(monitor, cra):
    own = record_for(monitor)
    record_for(cra)
    ids = [row["id"] for row in api_as(monitor).get(URL).json()["results"]]
    assert ids == [own.pk]


def test_a_sponsor_user_sees_but_cannot_edit_their_own_record(sponsor):
    record = record_for(sponsor)
    client = api_as(sponsor)
    assert client.get(f"{URL}{record.pk}/").status_code == 200
    response = client.patch(f"{URL}{record.pk}/", {"title": "x", "change_reason": "Mine"},
                            format="json")
    assert response.status_code == 403


def test_a_crm_no_longer_sees_someone_who_left_the_trial(cra, cra_assignment, admin, crm):
    from staffing.services import assignment_end

    record = record_for(cra)
    assignment_end(assignment=cra_assignment, by=admin, reason="Moved on",
                   end_date=timezone.localdate() - timedelta(days=1))
    assert api_as(crm).get(f"{URL}{record.pk}/").status_code == 404


def test_api_patch_to_a_far_future_completion_is_a_400(cra):
    record = record_for(cra)
    response = api_as(cra).patch(f"{URL}{record.pk}/", {
        "completed_on": "9999-12-31", "change_reason": "Fuzz"}, format="json")
    assert response.status_code == 400
    assert "completed_on" in response.json()


# -------------------------------------------------------------------------------------- admin

def test_a_record_added_in_the_admin_gets_its_expiry_deadline(admin, cra, client):
    client.force_login(admin)
    response = client.post("/admin/staffing/trainingrecord/add/", {
        "user": cra.pk, "kind": "gcp", "title": "", "completed_on": "2026-01-15",
        "expires_on": "", "change_reason": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    record = TrainingRecord.objects.get(user=cra)
    assert record.expires_on == date(2029, 1, 15)
    assert expiry_deadline(record).owner == cra


def test_an_admin_edit_needs_a_reason_and_moves_the_deadline(cra, admin, client):
    record = record_for(cra)
    client.force_login(admin)
    url = f"/admin/staffing/trainingrecord/{record.pk}/change/"
    data = {"kind": "gcp", "title": "", "completed_on": "2026-01-15",
            "expires_on": "2027-01-15", "change_reason": ""}
    assert client.post(url, data).status_code == 200
    assert client.post(url, {**data, "expires_on": "2025-01-01",
                             "change_reason": "Wrong"}).status_code == 200
    response = client.post(url, {**data, "change_reason": "Sponsor SOP: one year"})
    assert response.status_code == 302
    assert expiry_deadline(record).due_at.date() == date(2027, 1, 15)


def test_training_escalation_follows_the_people_who_run_the_trial(world):
    """A new CRM of the person's home trial takes over escalations from the one who left."""
    from datetime import date as _date
    from datetime import timedelta as _timedelta

    from django.utils import timezone as _tz

    from reminders.models import Deadline
    from staffing.models import Assignment, Role
    from staffing.services import (
        assignment_end,
        assignment_start,
        assignments_apply_dates,
        training_record_create,
    )

    w = world
    record = training_record_create(user=w.cra, kind="gcp", completed_on=_date(2024, 6, 1),
                                    by=w.cra)
    deadline = Deadline.objects.get(kind="training_expiry", object_id=record.pk)
    first_crm = deadline.escalation_user
    assert deadline.trial == w.trial_a
    assert first_crm is not None
    schedule = (deadline.remind_at, deadline.last_reminded_at)

    # The trial's first CRM (its creator) handed over yesterday; the hourly task applies it.
    today = _tz.localdate()
    Assignment.objects.filter(trial=w.trial_a, role=Role.CRM).exclude(user=w.crm).update(
        start_date=today - _timedelta(days=2), end_date=today - _timedelta(days=1))
    assignments_apply_dates(today=today)
    deadline.refresh_from_db()
    assert deadline.escalation_user == w.crm
    assert (deadline.remind_at, deadline.last_reminded_at) == schedule  # not restarted

    newcomer_assignment = Assignment.objects.get(trial=w.trial_a, user=w.crm, role=Role.CRM)
    assignment_end(assignment=newcomer_assignment, end_date=newcomer_assignment.start_date,
                   by=w.admin, reason="Left the CRO")
    deadline.refresh_from_db()
    assert deadline.escalation_user is None  # nobody left to escalate to on trial A
    assert deadline.escalate_at is None
    assignment_start(user=w.crm_b, trial=w.trial_a, role=Role.CRM, by=w.admin,
                     start_date=_tz.localdate() - _timedelta(days=1))
    deadline.refresh_from_db()
    assert deadline.escalation_user == w.crm_b
    assert deadline.escalate_at is not None
