"""Pages show and read date-times on the signed-in reader's own clock (their profile's time
zone), each with its zone; the API stays in UTC; the safety forms stay on the trial's clock."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reminders.models import Deadline
from reminders.services import deadline_upsert
from safety.forms import SubmitForm
from tests.factories import EssentialDocumentFactory, NotificationFactory, cra_of, crm_of


@pytest.fixture
def tokyo_cra(site):
    return cra_of(site, timezone="Asia/Tokyo")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_page_shows_times_on_the_readers_clock_with_the_zone(tokyo_cra):
    note = NotificationFactory(user=tokyo_cra, message="Due soon: the CV")
    note.created_at = datetime(2026, 12, 2, 13, 5, tzinfo=UTC)
    note.save(update_fields=["created_at"])
    html = signed_in(tokyo_cra).get(reverse("reminders:notifications")).content.decode()
    assert "02-Dec-2026 22:05 JST" in html
    assert "13:05" not in html
    assert timezone.get_current_timezone_name() == "UTC"  # nothing leaks past the request


def test_another_reader_sees_the_same_moment_on_their_own_clock(tokyo_cra, site):
    crm = crm_of(site.trial, timezone="America/New_York")
    deadline = deadline_upsert(kind="task", subject=site, trial=site.trial, owner=tokyo_cra,
                               title="Call the PI", due_at=datetime(2026, 12, 2, 13, 5, tzinfo=UTC))
    html = signed_in(crm).get(
        reverse("reminders:trial_deadlines", args=[site.trial.pk])).content.decode()
    assert "02-Dec-2026 08:05 EST" in html
    tokyo = signed_in(tokyo_cra).get(reverse("reminders:my_deadlines")).content.decode()
    assert "02-Dec-2026 22:05 JST" in tokyo
    assert deadline.due_at.tzinfo is UTC


def test_a_date_only_deadline_shows_its_day_not_a_midnight_on_some_clock(tokyo_cra, site):
    crm = crm_of(site.trial, timezone="America/New_York")
    expires = date(2027, 3, 1)
    EssentialDocumentFactory(site=site, kind="medical_licence", by=tokyo_cra, approved_by=crm,
                             effective_on=timezone.localdate(), expires_on=expires)
    html = signed_in(crm).get(
        reverse("reminders:trial_deadlines", args=[site.trial.pk])).content.decode()
    row = html.split("expires at site")[0].rsplit("<tr", 1)[1]
    assert "01-Mar-2027" in row
    assert "EST" not in row  # midnight in Tokyo is 10:00 the day before in New York


def test_a_form_reads_a_typed_time_on_the_readers_clock(tokyo_cra, site):
    response = signed_in(tokyo_cra).post(reverse("reminders:deadline_new"), {
        "kind": "task", "title": "Ship the lab kits", "trial": site.trial.pk,
        "due": "2027-01-05T09:00"})
    assert response.status_code == 302
    deadline = Deadline.objects.get(title="Ship the lab kits")
    assert deadline.due_at == datetime(2027, 1, 5, 0, 0, tzinfo=UTC)  # 09:00 JST


def test_the_api_stays_in_utc_for_a_signed_in_reader(tokyo_cra, site):
    client = signed_in(tokyo_cra)  # a session, as the browsable API and htmx would use
    response = client.post("/api/v1/deadlines/", {
        "kind": "task", "title": "Book the monitoring visit", "trial": site.trial.pk,
        "due_at": "2027-01-05T09:00:00+09:00"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["due_at"].startswith("2027-01-05T00:00:00")
    assert response.json()["due_at"].endswith(("Z", "+00:00"))


def test_safety_times_are_read_on_the_trials_clock_whatever_the_readers():
    """02:30 on 29 March 2026 does not exist in Berlin (clocks jump from 02:00 to 03:00), but
    it does on the trial's UTC safety clock: a Berlin reader can record it."""
    with timezone.override(ZoneInfo("Europe/Berlin")):
        form = SubmitForm({"submitted_at": "2026-03-29T02:30", "reference": "EV-1"}, zone="UTC")
        assert form.is_valid(), form.errors
        assert form.cleaned_data["submitted_at"] == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
        in_new_york = SubmitForm({"submitted_at": "2026-07-01T08:00", "reference": "EV-2"},
                                 zone="America/New_York")
        assert in_new_york.is_valid(), in_new_york.errors
        moment = in_new_york.cleaned_data["submitted_at"]
        assert moment.astimezone(UTC) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # EDT
