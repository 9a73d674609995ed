"""Over-long usernames and NUL characters at both log-in doors are a 400 / form error: on
PostgreSQL a 256-character username used to be a 500 (django-axes logged it in its 255-character
column), and a NUL would be refused by the database."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.factories import UserFactory


@pytest.fixture
def member(db):
    """Someone who could log in: NUL and length are refused before their password is tried."""
    return UserFactory(username="crm_a")


def token(body: dict):
    return APIClient().post("/api/v1/auth/token/", body, format="json")


def test_the_token_endpoint_refuses_a_username_over_150_characters_before_authenticating(member):
    response = token({"username": "u" * 256, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"username": ["Ensure this field has no more than 150 characters."]}
    assert not AccessAttempt.objects.exists()  # authenticate (and axes) never ran


@pytest.mark.parametrize("field", ["username", "password"])
def test_the_token_endpoint_refuses_nul_in_a_credential(member, field):
    response = token({"username": "crm_a", "password": PASSWORD, field: "crm_a\x00"})
    assert response.status_code == 400
    assert "NUL characters" in response.json()["detail"]
    form_body = APIClient().post("/api/v1/auth/token/",
                                 {"username": "crm_a", "password": PASSWORD, field: "x\x00"})
    assert form_body.status_code == 400
    assert form_body.json() == {field: ["Null characters are not allowed."]}


def test_a_username_of_150_characters_is_still_just_a_failed_log_in(member):
    response = token({"username": "u" * 150, "password": PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"detail": "Unable to log in with these credentials."}


def test_the_log_in_page_shows_an_error_for_an_over_long_username(member):
    response = Client().post("/accounts/login/", {"username": "u" * 300, "password": "x"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()
    # axes records the attempt, cut to its column, and still counts failures per username
    assert AccessAttempt.objects.get().username == "u" * 255


def test_the_log_in_page_refuses_nul_characters(member):
    response = Client().post("/accounts/login/", {"username": "crm_a\x00", "password": "x\x00"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["Null characters are not allowed."],
        "password": ["Null characters are not allowed."]}
    assert not AccessAttempt.objects.exists()  # refused before authenticate
