"""A signature re-enters the password once: the signing service checks it, and neither the page,
the API nor the domain action checks it again (one hash per signature, one failure counted)."""

import pytest
from django.urls import reverse

from staffing.models import SigningAttempts, User
from tests.conftest import PASSWORD, api_as
from tests.factories import AdverseEventFactory, monitor_of


@pytest.fixture
def checks(monkeypatch):
    seen = []
    real = User.check_password

    def counting(self, raw):
        seen.append(self.pk)
        return real(self, raw)

    monkeypatch.setattr(User, "check_password", counting)
    return seen


def body(password):
    return {"password": password, "sponsor_causality": "related", "expectedness": "unexpected",
            "comment": "Consistent with the IB"}


def test_a_review_by_the_api_checks_the_password_once(db, checks):
    event = AdverseEventFactory()
    monitor = monitor_of(event.subject.trial)
    response = api_as(monitor).post(f"/api/v1/adverse-events/{event.pk}/review/",
                                    body(PASSWORD), format="json")
    assert response.status_code == 200, response.content
    assert checks == [monitor.pk]


def test_a_wrong_password_on_the_page_is_checked_once_and_counted_once(db, client, checks):
    event = AdverseEventFactory()
    monitor = monitor_of(event.subject.trial)
    client.force_login(monitor)
    response = client.post(reverse("safety:ae_review", args=[event.pk]), body("not it"))
    assert response.status_code in (200, 400, 403)
    assert checks == [monitor.pk]
    assert SigningAttempts.objects.get(user=monitor).consecutive_failures == 1
