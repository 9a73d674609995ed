"""E-signatures (21 CFR 11.50, 11.70, 11.200): password re-entry, meaning, bound to content."""

import pytest
from django.urls import reverse

from safety.models import AdverseEvent
from safety.services import adverse_event_review
from staffing.models import Signature
from tests.conftest import PASSWORD, api_as
from tests.factories import AdverseEventFactory, monitor_of
from trials.services import trial_update


@pytest.fixture
def event(db):
    """A serious adverse event pending medical review."""
    return AdverseEventFactory()


@pytest.fixture
def trial(event):
    return event.subject.trial


@pytest.fixture
def monitor(trial):
    return monitor_of(trial)


def review(monitor, event, **overrides):
    body = {"password": PASSWORD, "sponsor_causality": "related",
            "expectedness": "unexpected", "comment": "Consistent with IB section 6"}
    return api_as(monitor).post(
        f"/api/v1/adverse-events/{event.pk}/review/", {**body, **overrides}, format="json"
    )


def test_a_review_signature_records_name_time_meaning_and_content_hash(monitor, event):
    response = review(monitor, event)
    assert response.status_code == 200, response.json()
    assert response.json()["review_status"] == "reviewed"
    signature = Signature.objects.get()
    assert signature.signer == monitor
    assert signature.printed_name == monitor.full_name
    assert signature.meaning == "medically_reviewed"
    assert len(signature.content_hash) == 64
    assert signature.is_valid_for(AdverseEvent.objects.get(pk=event.pk))


def test_a_wrong_password_is_403_and_saves_nothing(event, monitor):
    response = review(monitor, event, password="not-my-password")
    assert response.status_code == 403
    assert not Signature.objects.exists()
    event = AdverseEvent.objects.get(pk=event.pk)
    assert event.review_status == "pending"
    assert event.sponsor_causality is None
    assert event.history.count() == 1


def test_a_wrong_password_on_the_page_shows_an_error_and_saves_nothing(monitor, event, client):
    client.force_login(monitor)
    response = client.post(reverse("safety:ae_review", args=[event.pk]), {
        "password": "nope", "sponsor_causality": "related", "expectedness": "expected",
    })
    assert response.status_code == 400
    assert "password is not correct" in response.content.decode()
    assert not Signature.objects.exists()


def test_a_signature_shows_invalidated_once_the_record_changes(event, monitor, crm, client):
    signature = adverse_event_review(event=event, by=monitor, password=PASSWORD,
                                     sponsor_causality="related", expectedness="unexpected")
    client.force_login(crm)
    page = reverse("safety:ae_detail", args=[event.pk])
    assert "invalidated" not in client.get(page).content.decode()

    event = AdverseEvent.objects.get(pk=event.pk)
    from croportal.audit import audited_save

    event.severity_grade = 4
    audited_save(event, by=crm, reason="Grade corrected by site")
    assert not signature.is_valid_for(AdverseEvent.objects.get(pk=event.pk))
    assert "invalidated: the record changed after signing" in client.get(page).content.decode()


def test_only_the_trials_medical_monitor_may_sign(crm, event):
    response = api_as(crm).post(
        f"/api/v1/adverse-events/{event.pk}/review/",
        {"password": PASSWORD, "sponsor_causality": "related", "expectedness": "expected"},
        format="json",
    )
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_signature_content_ignores_nothing_that_matters(event, monitor, trial, crm):
    signature = adverse_event_review(event=event, by=monitor, password=PASSWORD,
                                     sponsor_causality="related", expectedness="unexpected")
    trial_update(trial=trial, by=crm, reason="unrelated record", title="X")
    assert signature.is_valid_for(AdverseEvent.objects.get(pk=event.pk))
