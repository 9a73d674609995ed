"""A message ("Training recorded.") is shown exactly once: on the page the redirect after the
POST lands on, or, when an htmx fragment answers first, with that fragment (out of band into
the page's one message list) — never again on a later page, and never taken by a poll."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

MESSAGE = "Training recorded."
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(cra) -> Client:
    client = Client()
    client.force_login(cra)
    return client


def record_training(client: Client):
    completed = (timezone.localdate() - timedelta(days=3)).isoformat()
    return client.post(reverse("staffing:training"), {"kind": "gcp", "completed_on": completed})


def test_the_page_after_the_redirect_shows_the_message_once_and_only_then(client):
    response = record_training(client)
    assert response.status_code == 302
    landed = client.get(response.url).content.decode()
    assert landed.count(MESSAGE) == 1
    assert landed.count('id="messages"') == 1  # one message list per page
    assert MESSAGE not in client.get(response.url).content.decode()
    assert MESSAGE not in client.get(reverse("dashboards:home")).content.decode()


def test_a_poll_in_between_leaves_the_message_for_the_page(client):
    record_training(client)
    bell = client.get(reverse("reminders:bell"), HTTP_X_PORTAL_POLL="1", **HTMX)
    assert MESSAGE not in bell.content.decode()
    assert client.get(reverse("staffing:training")).content.decode().count(MESSAGE) == 1


def test_an_htmx_fragment_answering_first_carries_the_message_out_of_band_once(client):
    record_training(client)
    fragment = client.get(reverse("safety:ctcae_search"), {"q": "anaemia"}, **HTMX)
    body = fragment.content.decode()
    assert "<html" not in body  # a fragment, not a page
    assert body.count(MESSAGE) == 1
    assert '<div id="messages" class="messages" hx-swap-oob="true">' in body
    assert MESSAGE not in client.get(reverse("staffing:training")).content.decode()
    again = client.get(reverse("safety:ctcae_search"), {"q": "anaemia"}, **HTMX)
    assert 'id="messages"' not in again.content.decode()  # nothing waiting: nothing added


def test_a_fragment_without_a_waiting_message_is_unchanged(client):
    plain = client.get(reverse("safety:ctcae_search"), {"q": "anaemia"}, **HTMX)
    assert "messages" not in plain.content.decode()
