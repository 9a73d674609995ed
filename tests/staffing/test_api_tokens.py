"""API tokens end: after API_TOKEN_IDLE_SECONDS unused, API_TOKEN_MAX_AGE_SECONDS
after issue, on log-out or revocation in the admin, and when the account's password changes
(through any door) or the account is deactivated. Only a SHA-256 of the key is stored."""

import hashlib
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from staffing.models import ApiToken
from tests.conftest import PASSWORD
from tests.factories import UserFactory

T0 = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
NEW_PASSWORD = "another-long-passphrase-42"


@pytest.fixture
def member(db):
    """A CRO member who asks for tokens with their password."""
    return UserFactory(username="crm_a")


def issue(api: APIClient, username: str = "crm_a") -> str:
    response = api.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD},
                        format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def me_status(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/me/").status_code


def test_only_the_sha256_of_the_token_is_stored(member, api):
    key = issue(api)
    token = ApiToken.objects.get(user=member)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    assert key not in stored
    assert me_status(key) == 200


def test_each_request_for_a_token_issues_a_new_one(member, api):
    assert issue(api) != issue(api)
    assert ApiToken.objects.filter(user=member).count() == 2


def test_a_token_unused_for_the_idle_time_expires(member, api, settings):
    settings.API_TOKEN_IDLE_SECONDS = 8 * 3600
    with time_machine.travel(T0, tick=False) as clock:
        key = issue(api)
        clock.shift(timedelta(hours=7, minutes=59))
        assert me_status(key) == 200  # used: the idle time starts again
        clock.shift(timedelta(hours=7, minutes=59))
        assert me_status(key) == 200
        clock.shift(timedelta(hours=8))
        assert me_status(key) == 401


def test_last_use_is_written_at_most_once_a_minute(member, api):
    with time_machine.travel(T0, tick=False) as clock:
        key = issue(api)
        clock.shift(timedelta(seconds=30))
        assert me_status(key) == 200
        assert ApiToken.objects.get().last_used_at == T0
        clock.shift(timedelta(seconds=31))
        assert me_status(key) == 200
        assert ApiToken.objects.get().last_used_at == T0 + timedelta(seconds=61)


def test_a_token_in_constant_use_still_ends_at_its_absolute_lifetime(member, api, settings):
    settings.API_TOKEN_MAX_AGE_SECONDS = 24 * 3600
    with time_machine.travel(T0, tick=False) as clock:
        key = issue(api)
        for _ in range(23):
            clock.shift(timedelta(hours=1))
            assert me_status(key) == 200
        clock.shift(timedelta(hours=1))
        assert me_status(key) == 401


def test_logout_revokes_the_callers_token_only(member, api):
    key, other = issue(api), issue(api)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert me_status(key) == 401
    assert me_status(other) == 200
    assert ApiToken.objects.get(revoked_at__isnull=False).revoked_by == member


def test_an_administrator_revokes_tokens_in_the_admin(member, admin, api, client):
    key = issue(api)
    client.force_login(admin)
    listing = client.get(reverse("admin:staffing_apitoken_changelist"))
    assert key[:8] in listing.content.decode()
    response = client.post(reverse("admin:staffing_apitoken_changelist"), {
        "action": "revoke", "_selected_action": [ApiToken.objects.get().pk]})
    assert response.status_code == 302
    assert me_status(key) == 401


def test_the_user_admin_action_revokes_every_token_of_the_account(member, admin, api, client):
    keys = [issue(api), issue(api)]
    client.force_login(admin)
    client.post(reverse("admin:staffing_user_changelist"), {
        "action": "revoke_api_tokens", "_selected_action": [member.pk]})
    assert [me_status(key) for key in keys] == [401, 401]


def change_with_set_password(member, admin, client):
    member.set_password(NEW_PASSWORD)
    member.save()


def change_on_the_page(member, admin, client):
    client.force_login(member)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302


def change_in_the_admin(member, admin, client):
    client.force_login(admin)
    response = client.post(reverse("admin:auth_user_password_change", args=[member.pk]),
                           {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302


def change_with_the_command(member, admin, client):
    with mock.patch("getpass.getpass", return_value=NEW_PASSWORD):
        call_command("changepassword", "crm_a")


@pytest.mark.parametrize("door", [change_with_set_password, change_on_the_page,
                                  change_in_the_admin, change_with_the_command])
def test_a_password_change_through_any_door_ends_every_token(member, admin, api, client, door):
    keys = [issue(api), issue(api)]
    door(member, admin, client)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert [me_status(key) for key in keys] == [401, 401]


def test_deactivating_the_account_ends_its_tokens(member, api):
    key = issue(api)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert me_status(key) == 401


def test_an_unknown_token_is_401(db):
    assert me_status("not-a-token") == 401
