"""People are shown by their full name in every select and table (a username is only a
login), and FTE as a plain fraction: 0.5 FTE, 1 FTE (never 0.50, never a percentage)."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from reminders.services import deadline_create_manual
from staffing.models import Assignment
from staffing.services import assignment_start
from tests.factories import SiteFactory, UserFactory, cra_of


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def part_timer(trial, admin):
    """A CRA on half time on a second site of the trial, named unlike their username."""
    person = UserFactory(username="pt_login", first_name="Priya", last_name="Tamang",
                         capacity=Decimal("0.75"))
    assignment_start(trial=trial, by=admin, user=person, role="CRA",
                     site=SiteFactory(trial=trial), allocation=Decimal("0.50"))
    return person


def test_a_person_reads_as_their_full_name_else_their_username(db):
    assert str(UserFactory(username="a_login", first_name="Ada", last_name="Lovelace")) == (
        "Ada Lovelace")
    assert str(UserFactory(username="no_name", first_name="", last_name="")) == "no_name"


def test_the_staff_page_names_people_and_shows_fte_as_a_fraction(crm, cra, part_timer, trial):
    html = logged_in(crm).get(reverse("staffing:trial_staff", args=[trial.pk])).content.decode()
    start_select = html.split('name="user"')[1].split("</select>")[0]
    assert ">Priya Tamang</option>" in start_select
    assert "pt_login" not in html
    assert ">0.5 FTE</td>" in html
    assert ">1 FTE</td>" in html  # the CRA's full-time assignment
    assert "0.50" not in html
    assert "1.00" not in html
    end_select = html.split('name="assignment"')[1].split("</select>")[0]
    assert "Priya Tamang, Clinical research associate at site" in end_select
    assert "0.5 FTE" in end_select


def test_the_staff_form_takes_half_an_fte(crm, trial):
    person = UserFactory()
    response = logged_in(crm).post(reverse("staffing:trial_staff", args=[trial.pk]), {
        "action": "start", "user": person.pk, "role": "CRM", "allocation": "0.5",
        "start_date": timezone.localdate().isoformat()})
    assert response.status_code == 302
    assert Assignment.objects.get(user=person).allocation == Decimal("0.5")


def test_the_workload_page_shows_allocation_and_capacity_as_fractions(crm, cra, part_timer):
    html = logged_in(crm).get(reverse("staffing:workload")).content.decode()
    assert "Priya Tamang" in html
    assert "pt_login" not in html
    assert "0.5 FTE / 0.75 FTE" in html
    assert "1 FTE / 1 FTE" in html
    assert "%" not in html.split('<table')[1].split("</table>")[0]


def test_the_deadline_form_offers_people_by_full_name(crm, cra, part_timer):
    html = logged_in(crm).get(reverse("reminders:deadline_new")).content.decode()
    owner_select = html.split('name="owner"')[1].split("</select>")[0]
    assert f">{cra.full_name}</option>" in owner_select
    assert ">Priya Tamang</option>" in owner_select
    assert cra.username not in owner_select
    assert "pt_login" not in owner_select


def test_the_reassign_select_and_the_owner_column_name_people(crm, cra, site, trial):
    other = cra_of(SiteFactory(trial=trial), first_name="Olu", last_name="Adeyemi")
    deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra, site=site,
                           title="Collect the CVs", due_at=timezone.now())
    html = logged_in(crm).get(
        reverse("reminders:trial_deadlines", args=[trial.pk])).content.decode()
    assert f">{cra.full_name}</td>" in html
    assert ">Olu Adeyemi</option>" in html
    assert other.username not in html
    assert cra.username not in html
