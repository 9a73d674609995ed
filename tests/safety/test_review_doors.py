"""An AE's review status is set only by the medical monitor's e-signed review."""

import pytest
from django.urls import reverse

from safety.models import AdverseEvent
from tests.admin_forms import admin_form_data
from tests.conftest import api_as
from tests.factories import AdverseEventFactory, monitor_of


@pytest.fixture
def event(db):
    """A serious adverse event pending medical review."""
    return AdverseEventFactory()


@pytest.fixture
def monitor(event):
    return monitor_of(event.subject.trial)


def test_the_admin_shows_review_status_read_only(admin, event, client):
    client.force_login(admin)
    url = reverse("admin:safety_adverseevent_change", args=[event.pk])
    assert "review_status" not in client.get(url).context["adminform"].form.fields
    data = admin_form_data(client, url, review_status="reviewed", change_reason="Skip review")
    client.post(url, data)
    assert AdverseEvent.objects.get(pk=event.pk).review_status == "pending"


def test_the_api_does_not_take_review_status_in_a_write(monitor, event):
    response = api_as(monitor).patch(
        f"/api/v1/adverse-events/{event.pk}/",
        {"review_status": "reviewed", "change_reason": "Skip review"}, format="json")
    assert response.status_code in (400, 403, 405)
    assert AdverseEvent.objects.get(pk=event.pk).review_status == "pending"
