"""The deadlines and notifications API (API.md), the pages, the calendar feed, digests."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from reminders import services
from reminders.models import CalendarFeed, Deadline, Digest, Notification
from staffing.services import assignment_end
from tests.conftest import api_as
from tests.factories import (
    DeadlineFactory,
    NotificationFactory,
    TrialFactory,
    crm_of,
    monitor_of,
    sponsor_viewer_of,
)


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="A-001")


@pytest.fixture
def monitor(trial):
    return monitor_of(trial)


@pytest.fixture
def outsider(db):
    """A sponsor viewer of another sponsor's trial."""
    return sponsor_viewer_of(TrialFactory())


@pytest.fixture
def other_trials_crm(db):
    return crm_of(TrialFactory())


@pytest.fixture
def deadline(trial, site, crm, cra):
    """The CRA's task, set by the CRM (its escalation), due in two days."""
    return DeadlineFactory(by=crm, trial=trial, site=site, owner=cra,
                           title="Chase the signed CV of site 101", escalation_user=crm)


@pytest.fixture
def notification(cra, site, deadline):
    return NotificationFactory(user=cra, message="Due soon: Chase the signed CV of site 101",
                               url=f"/sites/{site.pk}/", deadline=deadline)


def test_deadline_fields_are_those_of_the_contract(cra, deadline):
    response = api_as(cra).get("/api/v1/deadlines/?mine=true")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert {"id", "kind", "title", "trial", "owner", "due_at", "state", "overdue",
            "url"} <= set(row)
    assert row["id"] == deadline.pk
    assert row["owner"] == cra.pk
    assert row["state"] == "open"
    assert row["overdue"] is False


def test_a_past_deadline_is_accepted_and_shows_overdue(cra, trial):
    client = api_as(cra)
    response = client.post("/api/v1/deadlines/", {
        "kind": "visit_report", "title": "Write the IMV report", "trial": trial.pk,
        "due_at": "2026-01-05T17:00:00+01:00"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["overdue"] is True
    assert body["due_at"].startswith("2026-01-05T16:00:00")  # stored in UTC
    overdue = client.get("/api/v1/deadlines/?overdue=true").json()["results"]
    assert [row["id"] for row in overdue] == [body["id"]]
    deadline = Deadline.objects.get(pk=body["id"])
    assert deadline.next_reminder_at is not None  # reminded at the next sweep


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "coffee"}, "kind"),
    ({"kind": "training_expiry"}, "kind"),
    ({"due_at": "tomorrow"}, "due_at"),
    ({"title": ""}, "title"),
    ({"trial": 999_999}, "trial"),
])
def test_bad_deadlines_are_refused_with_the_field_and_write_nothing(trial, crm, body, field):
    before = Deadline.objects.count()
    data = {"kind": "task", "title": "Call the site", "trial": trial.pk,
            "due_at": "2026-12-01T09:00:00Z", **body}
    response = api_as(crm).post("/api/v1/deadlines/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Deadline.objects.count() == before


def test_unknown_kind_message_names_the_known_kinds(crm, trial):
    response = api_as(crm).post("/api/v1/deadlines/", {
        "kind": "coffee", "title": "x", "trial": trial.pk,
        "due_at": "2026-12-01T09:00:00Z"}, format="json")
    assert "coffee" in response.json()["kind"][0]
    assert "training_expiry" in response.json()["kind"][0]


def test_the_crm_sets_deadlines_for_the_team_but_not_for_strangers(
        crm, trial, cra, other_trials_crm):
    client = api_as(crm)
    ok = client.post("/api/v1/deadlines/", {
        "kind": "monitoring_visit", "title": "IMV site 101", "trial": trial.pk,
        "owner": cra.pk, "due_at": "2026-12-01T09:00:00Z"}, format="json")
    assert ok.status_code == 201
    assert Deadline.objects.get(pk=ok.json()["id"]).escalation_user == crm
    stranger = client.post("/api/v1/deadlines/", {
        "kind": "task", "title": "x", "trial": trial.pk, "owner": other_trials_crm.pk,
        "due_at": "2026-12-01T09:00:00Z"}, format="json")
    assert stranger.status_code == 400
    assert "owner" in stranger.json()


def test_lists_are_scoped_and_filtered(world):
    crm_ids = {r["id"] for r in api_as(world.crm).get("/api/v1/deadlines/").json()["results"]}
    assert world.deadline_a.pk in crm_ids  # manages trial A (and is its escalation)
    assert world.deadline_b.pk not in crm_ids
    assert api_as(world.crm).get("/api/v1/deadlines/?mine=true").json()["count"] == 0
    assert api_as(world.sponsor).get("/api/v1/deadlines/").json()["count"] == 0
    by_trial = api_as(world.admin).get(f"/api/v1/deadlines/?trial={world.trial_b.pk}").json()
    # Trial B's task and its serious AE's medical review; nothing of trial A.
    assert world.deadline_b.pk in [r["id"] for r in by_trial["results"]]
    assert {r["trial"] for r in by_trial["results"]} == {world.trial_b.pk}
    assert {r["kind"] for r in by_trial["results"]} == {"task", "medical_review"}
    assert api_as(world.crm).get("/api/v1/deadlines/?state=nonsense").status_code == 400


def test_done_closes_a_manual_deadline_only(cra, deadline):
    client = api_as(cra)
    response = client.post(f"/api/v1/deadlines/{deadline.pk}/done/")
    assert response.status_code == 200
    assert response.json()["state"] == "done"
    assert Deadline.objects.get(pk=deadline.pk).closed_by == cra
    deadline.refresh_from_db()
    assert deadline.next_reminder_at is None
    kept = services.deadline_upsert(kind="training_expiry", subject=cra, owner=cra,
                                    due_at=timezone.now(), title="GCP expires")
    refused = client.post(f"/api/v1/deadlines/{kept.pk}/done/")
    assert refused.status_code == 400
    assert Deadline.objects.get(pk=kept.pk).state == "open"


def test_notifications_are_ones_own_and_can_be_read(cra, notification, crm):
    client = api_as(cra)
    listed = client.get("/api/v1/notifications/?unread=true").json()
    assert [n["id"] for n in listed["results"]] == [notification.pk]
    assert set(listed["results"][0]) == {"id", "kind", "message", "url", "created_at",
                                         "read_at"}
    read = client.post(f"/api/v1/notifications/{notification.pk}/read/")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 0
    assert api_as(crm).get(
        f"/api/v1/notifications/{notification.pk}/").status_code == 404


def test_bell_counts_unread_and_pages_list_deadlines(cra, notification):
    client = Client()
    client.force_login(cra)
    bell = client.get(reverse("reminders:bell"))
    assert 'id="unread-count">1<' in bell.content.decode()
    home = client.get("/")
    assert 'id="unread-count">1<' in home.content.decode()  # in the navigation of every page
    page = client.get(reverse("reminders:my_deadlines"))
    assert "Chase the signed CV of site 101" in page.content.decode()
    client.post(reverse("reminders:notifications_read_all"))
    assert "unread-count" not in client.get(reverse("reminders:bell")).content.decode()


def test_my_deadlines_put_overdue_first_and_filter_by_kind(cra, trial, deadline):
    services.deadline_create_manual(by=cra, kind="visit_report", trial=trial, owner=cra,
                                    due_at=timezone.now() - timedelta(days=3),
                                    title="Overdue IMV report")
    client = Client()
    client.force_login(cra)
    text = client.get(reverse("reminders:my_deadlines")).content.decode()
    assert text.index("Overdue IMV report") < text.index("Chase the signed CV")
    only_tasks = client.get(reverse("reminders:my_deadlines") + "?kind=task").content.decode()
    assert "Overdue IMV report" not in only_tasks
    assert "Chase the signed CV" in only_tasks


def test_new_deadline_page_reads_the_due_time_in_the_users_zone(cra, trial):
    cra.timezone = "Europe/Berlin"
    cra.save()
    client = Client()
    client.force_login(cra)
    response = client.post(reverse("reminders:deadline_new"), {
        "kind": "task", "title": "Order lab kits", "trial": trial.pk, "owner": "",
        "due": "2026-12-01T09:00"})
    assert response.status_code == 302
    deadline = Deadline.objects.get(title="Order lab kits")
    assert deadline.due_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    bad = client.post(reverse("reminders:deadline_new"), {
        "kind": "coffee", "title": "x", "trial": trial.pk, "due": "soon"})
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) == {"kind", "due"}


def test_trial_deadlines_page_shows_the_whole_trial_to_its_crm(world):
    client = Client()
    client.force_login(world.crm)
    text = client.get(reverse("reminders:trial_deadlines", args=[world.trial_a.pk])).content
    assert b"Chase the signed CV of site 101" in text
    assert b"Trial B budget" not in text


def test_preferences_are_saved(cra):
    client = Client()
    client.force_login(cra)
    client.post(reverse("reminders:preferences"), {"email_enabled": "on", "digest_only": "on",
                                                   "muted_kinds": ["milestone"]})
    preference = services.preference_of(user=cra)
    assert preference.digest_only
    assert not preference.daily_digest
    assert preference.muted_kinds == ["milestone"]
    assert not preference.wants_email_for("task")


# ------------------------------------------------------------------------------ calendar feed

def _new_feed_url(client) -> str:
    response = client.post(reverse("reminders:calendar"), {"action": "regenerate"})
    return response.context["feed_url"].replace("http://testserver", "")


def test_calendar_feed_needs_the_secret_not_a_login(cra, deadline):
    client = Client()
    client.force_login(cra)
    url = _new_feed_url(client)
    feed = Client().get(url)  # no session
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Chase the signed CV of site 101 [A-001]"]
    assert events[0].decoded("dtstart") == deadline.due_at.replace(microsecond=0)
    assert str(events[0]["uid"]) == f"deadline-{deadline.pk}@croportal"
    assert Client().get(url.replace(".ics", "x.ics")).status_code == 404


def test_regenerating_the_secret_revokes_the_old_url(cra):
    client = Client()
    client.force_login(cra)
    old = _new_feed_url(client)
    new = _new_feed_url(client)
    assert old != new
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    assert CalendarFeed.objects.filter(user=cra).count() == 1
    assert cra.username not in CalendarFeed.objects.get().secret_hash
    client.post(reverse("reminders:calendar"), {"action": "revoke"})
    assert Client().get(new).status_code == 404


def test_calendar_feed_shows_nothing_of_trials_the_user_cannot_see(
        cra, cra_assignment, crm, deadline):
    client = Client()
    client.force_login(cra)
    url = _new_feed_url(client)
    personal = services.deadline_upsert(kind="training_expiry", subject=cra, owner=cra,
                                        due_at=timezone.now() + timedelta(days=40),
                                        title="GCP certificate expires")
    assignment_end(assignment=cra_assignment, end_date=timezone.localdate() - timedelta(1),
                   by=crm, reason="Moved to another trial")
    text = Client().get(url).content.decode()
    assert "Chase the signed CV" not in text
    assert "A-001" not in text
    assert personal.title in text


# ------------------------------------------------------------------------------------ digests

def test_daily_digest_once_per_local_day_after_the_digest_hour(cra, trial, deadline, settings):
    settings.DIGEST_HOUR = 7
    cra.email, cra.timezone = "cra@example.org", "Asia/Tokyo"
    cra.save()
    # 21:00 UTC is 06:00 next day in Tokyo; three days on, the CRA's task is overdue too.
    tokyo_6am = (timezone.now() + timedelta(days=3)).replace(hour=21, minute=0, second=0,
                                                             microsecond=0)
    services.deadline_create_manual(by=cra, kind="visit_report", trial=trial,
                                    owner=cra, due_at=tokyo_6am - timedelta(days=1),
                                    title="Overdue IMV report")
    services.digests_send(now=tokyo_6am)
    assert mail.outbox == []  # before 07:00 local
    services.digests_send(now=tokyo_6am + timedelta(hours=1))
    services.digests_send(now=tokyo_6am + timedelta(hours=2))
    [digest] = [m for m in mail.outbox if m.to == ["cra@example.org"]]
    assert "2 overdue, 0 coming up" in digest.subject
    assert "Overdue IMV report" in digest.body
    assert "Chase the signed CV of site 101" in digest.body
    assert Digest.objects.get(user=cra).day == (tokyo_6am + timedelta(hours=9)).date()


def test_digest_respects_the_preference(cra, notification):
    cra.email = "cra@example.org"
    cra.save()
    services.preferences_update(user=cra, email_enabled=True, digest_only=False,
                                daily_digest=False, muted_kinds=[])
    services.digests_send(now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert not [m for m in mail.outbox if m.to == ["cra@example.org"]]


def test_notifications_page_marks_one_read_and_opens_it(cra, notification):
    client = Client()
    client.force_login(cra)
    response = client.post(reverse("reminders:notification_read",
                                   args=[notification.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == notification.url
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_trial_page_links_its_deadlines_for_the_crm_only(crm, trial, cra):
    client = Client()
    client.force_login(crm)
    url = reverse("trials:detail", args=[trial.pk])
    assert b'id="trial-deadlines-link"' in client.get(url).content
    client.force_login(cra)
    assert b'id="trial-deadlines-link"' not in client.get(url).content


def test_trial_deadlines_page_flags_owners_who_left_the_trial(crm, trial, cra_assignment, deadline):
    client = Client()
    client.force_login(crm)
    url = reverse("reminders:trial_deadlines", args=[trial.pk])
    assert b"left the trial" not in client.get(url).content
    assignment_end(assignment=cra_assignment, end_date=cra_assignment.start_date,
                   by=crm, reason="Moved to another trial")
    assert b"left the trial" in client.get(url).content


def test_the_crm_gives_a_leavers_deadline_to_someone_else(
        cra_assignment, crm, trial, cra, deadline, monitor, outsider):
    assignment_end(assignment=cra_assignment, end_date=cra_assignment.start_date,
                   by=crm, reason="Left the CRO")
    client = Client()
    client.force_login(crm)
    page = client.get(reverse("reminders:trial_deadlines", args=[trial.pk]))
    assert cra not in page.context["team"]  # no longer on the trial
    response = client.post(reverse("reminders:deadline_reassign", args=[deadline.pk]),
                           {"owner": monitor.pk})
    assert response.status_code == 302
    deadline = Deadline.objects.get(pk=deadline.pk)
    assert deadline.owner == monitor
    assert deadline.next_reminder_at is not None
    refused = api_as(crm).post(f"/api/v1/deadlines/{deadline.pk}/reassign/",
                               {"owner": outsider.pk}, format="json")
    assert refused.status_code == 400
    assert "owner" in refused.json()
    assert Deadline.objects.get(pk=deadline.pk).owner == monitor
