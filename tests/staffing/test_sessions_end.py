"""A password change or a deactivation ends the account's other browser sessions too
(Django's session auth hash; the API tokens are covered in test_api_tokens)."""

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import UserFactory

NEW_PASSWORD = "another-long-passphrase-42"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(reverse("dashboards:home")).status_code == 200
    return client


def test_a_password_change_logs_out_the_accounts_other_sessions(db):
    member = UserFactory()
    here, elsewhere = logged_in(member), logged_in(member)
    response = here.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get(reverse("dashboards:home")).status_code == 200  # the one who changed it
    response = elsewhere.get(reverse("dashboards:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_deactivated_accounts_session_ends(db):
    member = UserFactory()
    client = logged_in(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    response = client.get(reverse("dashboards:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
