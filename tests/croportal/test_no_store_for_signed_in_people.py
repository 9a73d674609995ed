"""Every answer to a signed-in person (pages, API, CSV, calendar feed) is `no-store`; public
pages and static files keep their caching."""

import pytest
from django.test import Client

from reminders.services import calendar_feed_regenerate
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def is_no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_pages_and_csv_exports_of_a_signed_in_person_are_not_stored(crm, trial, client):
    client.force_login(crm)
    for url in ("/", "/trials/", f"/trials/{trial.pk}/", "/deadlines/",
                f"/audit/trial/{trial.pk}/", f"/audit/trial/{trial.pk}/csv/",
                "/notifications/bell/", "/api/docs/", "/api/v1/trials/", "/no-such-page/"):
        response = client.get(url)
        assert is_no_store(response), (url, response.get("Cache-Control"))
        assert response["Pragma"] == "no-cache", url


def test_the_api_with_a_token_and_the_token_itself_are_not_stored(cra, trial, api):
    issued = api.post("/api/v1/auth/token/", {"username": cra.username,
                                              "password": PASSWORD}, format="json")
    assert issued.status_code == 200
    assert is_no_store(issued)  # the answer is a credential
    api.credentials(HTTP_AUTHORIZATION=f"Token {issued.json()['token']}")
    for url in ("/api/v1/me/", "/api/v1/trials/", f"/api/v1/trials/{trial.pk}/"):
        response = api.get(url)
        assert response.status_code == 200, url
        assert is_no_store(response), url


def test_the_calendar_feed_is_not_stored(cra):
    secret = calendar_feed_regenerate(user=cra)
    feed = Client().get(f"/calendar/{secret}.ics")  # the secret is the credential, no login
    assert feed.status_code == 200
    assert "no-store" in feed["Cache-Control"]


def test_public_pages_and_static_files_keep_their_caching(crm, settings):
    anonymous = Client()
    health = anonymous.get("/healthz/")  # (the log-in page is never_cache by Django itself)
    assert health.status_code == 200
    assert "no-store" not in health.get("Cache-Control", "")
    settings.WHITENOISE_USE_FINDERS = True  # WhiteNoise serves the source files, as with DEBUG
    settings.WHITENOISE_AUTOREFRESH = True
    signed_in = Client()  # a new client builds its middleware with these settings
    signed_in.force_login(crm)
    static = signed_in.get("/static/css/portal.css")
    assert static.status_code == 200
    assert "no-store" not in static["Cache-Control"]
    assert "max-age=" in static["Cache-Control"]
