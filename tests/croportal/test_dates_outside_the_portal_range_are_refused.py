"""Dates are limited to 1900-01-01 .. 2199-12-31 on every regulated record, through every door
(the check sits in audited_save): 0001-01-01 and 9999-12-31 used to overflow the reminder
scheduling of milestones and documents (a 500); now they are a 400 naming the field."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.test import Client

from croportal.exceptions import ApplicationError
from croportal.validation import (
    DATE_RANGE_MESSAGE,
    check_model_dates,
    in_portal_range,
)
from reminders.models import Deadline
from sites.models import EssentialDocument
from staffing.models import Assignment
from tests.conftest import api_as
from tests.factories import (
    EssentialDocumentFactory,
    MilestoneFactory,
)
from trials.models import Milestone, Trial
from trials.services import milestone_create


@pytest.fixture
def milestone(trial):
    return MilestoneFactory(trial=trial, kind="protocol_final", planned_date=date(2026, 1, 15),
                            actual_date=date(2026, 1, 20))


@pytest.fixture
def document(site, cra, admin):
    """The site's delegation log, filed by its CRA, approved by another person."""
    return EssentialDocumentFactory(site=site, by=cra, kind="delegation_log", version="3",
                                    effective_on=date(2026, 4, 1), approved_by=admin)

MESSAGE = "Dates must lie between 1900-01-01 and 2199-12-31."


def test_the_range_is_inclusive_at_both_ends():
    assert DATE_RANGE_MESSAGE == MESSAGE
    assert in_portal_range(date(1900, 1, 1))
    assert in_portal_range(date(2199, 12, 31))
    assert not in_portal_range(date(1899, 12, 31))
    assert not in_portal_range(date(2200, 1, 1))
    assert in_portal_range(datetime(2199, 12, 31, 23, 59, tzinfo=UTC))
    assert not in_portal_range(datetime(2200, 1, 1, tzinfo=UTC))
    # an instant is compared in UTC: 2199-12-31 23:00 at -05:00 is already 2200 in UTC
    assert not in_portal_range(datetime(2199, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))))
    # an offset that would push the instant off Python's calendar is out of range, not a crash
    assert not in_portal_range(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))


def test_every_date_field_of_a_record_is_checked(milestone):
    milestone.baseline_date = date(9999, 12, 31)
    with pytest.raises(ApplicationError) as refused:
        check_model_dates(milestone)
    assert (refused.value.field, refused.value.message) == ("baseline_date", MESSAGE)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_milestone_dates_outside_the_range_are_a_400_that_changes_nothing(crm, milestone, day):
    history, deadlines = Milestone.history.count(), Deadline.objects.count()
    response = api_as(crm).patch(
        f"/api/v1/milestones/{milestone.pk}/",
        {"planned_date": day, "actual_date": None, "change_reason": "Replanned"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"planned_date": [MESSAGE]}
    assert (Milestone.history.count(), Deadline.objects.count()) == (history, deadlines)


def test_a_new_milestone_in_9999_is_refused_by_the_service(trial, admin):
    with pytest.raises(ApplicationError, match="Dates must lie between"):
        milestone_create(trial=trial, by=admin, kind="lpi",
                         planned_date=date(9999, 12, 31))
    assert not Milestone.objects.filter(kind="lpi").exists()


def test_a_document_expiring_in_9999_is_a_400(crm, document):
    history = EssentialDocument.history.count()
    response = api_as(crm).patch(
        f"/api/v1/essential-documents/{document.pk}/",
        {"expires_on": "9999-12-31", "change_reason": "Renewed"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"expires_on": [MESSAGE]}
    assert EssentialDocument.history.count() == history


def test_a_trial_birth_date_in_year_1_is_a_400(crm, trial):
    response = api_as(crm).patch(f"/api/v1/trials/{trial.pk}/",
                                 {"dibd": "0001-01-01", "change_reason": "Typo"},
                                 format="json")
    assert response.status_code == 400
    assert response.json() == {"dibd": [MESSAGE]}
    assert Trial.objects.get(pk=trial.pk).dibd is None


def test_an_assignment_ending_in_9999_is_a_400(crm, cra_assignment):
    history = Assignment.history.count()
    response = api_as(crm).post(f"/api/v1/assignments/{cra_assignment.pk}/end/",
                                {"end_date": "9999-12-31", "change_reason": "Moved"},
                                format="json")
    assert response.status_code == 400
    assert response.json() == {"end_date": [MESSAGE]}
    assert Assignment.history.count() == history


def test_the_milestone_page_shows_the_range_as_a_form_error(crm, trial):
    client = Client()
    client.force_login(crm)
    before = Milestone.objects.count()
    response = client.post(f"/trials/{trial.pk}/milestones/new/",
                           {"kind": "lpi", "planned_date": "9999-12-31"})
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert Milestone.objects.count() == before
