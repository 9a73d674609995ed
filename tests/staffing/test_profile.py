"""The profile page: a person sets their own name and time zone (which every page then reads
in) and reaches their notification preferences; nobody edits another person's profile."""

import pytest
from django.test import Client
from django.urls import reverse

from croportal.exceptions import ApplicationError
from staffing.models import User
from staffing.services import time_zone_names, user_profile_update
from tests.factories import UserFactory

PROFILE = "/profile/"


@pytest.fixture
def person(db):
    return UserFactory(username="jdoe", first_name="Jane", last_name="Doe", timezone="UTC")


@pytest.fixture
def client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_profile_is_linked_from_the_name_in_the_navigation(client, person):
    html = client.get(reverse("dashboards:home")).content.decode()
    assert f'<a href="{PROFILE}" id="profile-link"' in html
    assert reverse("profile") == PROFILE


def test_the_page_shows_the_current_name_zone_and_the_way_to_the_preferences(client):
    response = client.get(PROFILE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Jane"' in html
    assert 'value="Doe"' in html
    assert '<option value="UTC" selected>' in html
    assert f'href="{reverse("reminders:preferences")}"' in html
    assert f'href="{reverse("password_change")}"' in html
    assert "E-mail reminders: <strong>on</strong>" in html


def test_saving_the_profile_changes_name_and_zone_and_says_so_once(client, person):
    response = client.post(PROFILE, {"first_name": " Janet ", "last_name": "Doe-Smith",
                                     "timezone": "Europe/Berlin"}, follow=True)
    assert response.redirect_chain == [(PROFILE, 302)]
    person.refresh_from_db()
    assert (person.first_name, person.last_name, person.timezone) == (
        "Janet", "Doe-Smith", "Europe/Berlin")
    html = response.content.decode()
    assert html.count("Profile saved.") == 1
    assert '<option value="Europe/Berlin" selected>' in html
    assert "CET</strong>" in html or "CEST</strong>" in html  # "it is now …" on the new clock
    assert "Profile saved." not in client.get(PROFILE).content.decode()


@pytest.mark.parametrize(("data", "field"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "utc"}, "timezone"),  # names are exact: not guessed
    ({"timezone": ""}, "timezone"),
    ({"first_name": "", "last_name": ""}, "first_name"),
    ({"first_name": "Ja\x00ne"}, "first_name"),
    ({"last_name": "x" * 151}, "last_name"),
    ({"timezone": "Europe/" + "x" * 10_000}, "timezone"),
])
def test_bad_input_is_a_form_error_and_changes_nothing(client, person, data, field):
    body = {"first_name": "Jane", "last_name": "Doe", "timezone": "Asia/Tokyo", **data}
    response = client.post(PROFILE, body)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    person.refresh_from_db()
    assert (person.first_name, person.last_name, person.timezone) == ("Jane", "Doe", "UTC")


def test_the_page_edits_only_the_callers_own_profile(client, person):
    other = UserFactory(first_name="Other", timezone="UTC")
    client.post(PROFILE, {"first_name": "Hacked", "last_name": "X", "timezone": "Asia/Tokyo",
                          "id": other.pk, "user": other.pk, "username": other.username})
    other.refresh_from_db()
    person.refresh_from_db()
    assert (other.first_name, other.timezone) == ("Other", "UTC")
    assert (person.first_name, person.username) == ("Hacked", "jdoe")


def test_the_service_refuses_to_edit_someone_elses_profile(person):
    other = UserFactory(first_name="Other")
    with pytest.raises(ApplicationError) as refused:
        user_profile_update(user=other, by=person, first_name="X", last_name="Y",
                            timezone="UTC")
    assert refused.value.status == 403
    assert User.objects.get(pk=other.pk).first_name == "Other"


def test_the_service_checks_the_zone_and_name_whatever_the_door(person):
    with pytest.raises(ApplicationError) as refused:
        user_profile_update(user=person, by=person, first_name="Jane", last_name="Doe",
                            timezone="Nowhere/Special")
    assert refused.value.field == "timezone"
    with pytest.raises(ApplicationError) as refused:
        user_profile_update(user=person, by=person, first_name=" ", last_name="",
                            timezone="UTC")
    assert refused.value.field == "first_name"
    saved = user_profile_update(user=person, by=person, first_name="Jane", last_name="",
                                timezone="America/Sao_Paulo")
    assert (saved.full_name, str(saved), saved.timezone) == ("Jane", "Jane", "America/Sao_Paulo")


def test_the_zone_choices_are_every_known_zone_sorted(client):
    names = time_zone_names()
    assert list(names) == sorted(names)
    assert {"UTC", "Europe/Berlin", "Asia/Kolkata", "America/Sao_Paulo"} <= set(names)
    html = client.get(PROFILE).content.decode()
    assert html.count("<option value=") == len(names)


def test_anonymous_visitors_are_sent_to_log_in(db):
    response = Client().get(PROFILE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
