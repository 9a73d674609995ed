"""The medical review form preselects nothing: causality and expectedness are the monitor's
own choice, required on the page and in the API; a refusal's message appears once."""

import re

import pytest
from django.urls import reverse

from safety.models import AdverseEvent
from staffing.models import Signature
from tests.conftest import PASSWORD, api_as
from tests.factories import AdverseEventFactory, monitor_of


@pytest.fixture
def event(db):
    """A serious adverse event pending medical review."""
    return AdverseEventFactory()


@pytest.fixture
def monitor(event):
    return monitor_of(event.subject.trial)


def page_of(monitor, event, client) -> str:
    client.force_login(monitor)
    return client.get(reverse("safety:ae_detail", args=[event.pk])).content.decode()


def select(html: str, name: str) -> str:
    return re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)


def test_the_review_form_preselects_no_causality_or_expectedness(monitor, event, client):
    html = page_of(monitor, event, client)
    for name in ("sponsor_causality", "expectedness"):
        widget = select(html, name)
        assert "selected" not in widget
        assert "required" in widget
        assert re.search(r'<option value="">', widget), "an empty choice comes first"


def test_a_review_without_causality_and_expectedness_is_a_form_error(monitor, event, client):
    client.force_login(monitor)
    response = client.post(reverse("safety:ae_review", args=[event.pk]),
                           {"password": PASSWORD, "sponsor_causality": "", "expectedness": ""})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"sponsor_causality", "expectedness"}
    assert not Signature.objects.exists()
    assert AdverseEvent.objects.get(pk=event.pk).review_status == "pending"


def test_the_api_requires_causality_and_expectedness(monitor, event):
    response = api_as(monitor).post(
        f"/api/v1/adverse-events/{event.pk}/review/", {"password": PASSWORD},
        format="json")
    assert response.status_code == 400
    assert {"sponsor_causality", "expectedness"} <= set(response.json())
    assert not Signature.objects.exists()


def test_the_wrong_password_message_appears_once_on_the_page(monitor, event, client):
    client.force_login(monitor)
    response = client.post(reverse("safety:ae_review", args=[event.pk]), {
        "password": "nope", "sponsor_causality": "related", "expectedness": "expected"})
    assert response.status_code == 400
    assert response.content.decode().count("The password is not correct") == 1
