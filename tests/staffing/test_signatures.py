"""E-signatures (21 CFR 11.50, 11.70, 11.200): password re-entry, meaning, bound to content."""

from django.urls import reverse

from safety.models import AdverseEvent
from safety.services import adverse_event_review
from staffing.models import Signature
from tests.conftest import PASSWORD, api_as
from trials.services import trial_update


def review(world, **overrides):
    body = {"password": PASSWORD, "sponsor_causality": "related",
            "expectedness": "unexpected", "comment": "Consistent with IB section 6"}
    return api_as(world.monitor).post(
        f"/api/v1/adverse-events/{world.ae_a1.pk}/review/", {**body, **overrides}, format="json"
    )


def test_a_review_signature_records_name_time_meaning_and_content_hash(world):
    response = review(world)
    assert response.status_code == 200, response.json()
    assert response.json()["review_status"] == "reviewed"
    signature = Signature.objects.get()
    assert signature.signer == world.monitor
    assert signature.printed_name == world.monitor.full_name
    assert signature.meaning == "medically_reviewed"
    assert len(signature.content_hash) == 64
    assert signature.is_valid_for(AdverseEvent.objects.get(pk=world.ae_a1.pk))


def test_a_wrong_password_is_403_and_saves_nothing(world):
    response = review(world, password="not-my-password")
    assert response.status_code == 403
    assert not Signature.objects.exists()
    event = AdverseEvent.objects.get(pk=world.ae_a1.pk)
    assert event.review_status == "pending"
    assert event.sponsor_causality is None
    assert event.history.count() == 1


def test_a_wrong_password_on_the_page_shows_an_error_and_saves_nothing(world, client):
    client.force_login(world.monitor)
    response = client.post(reverse("safety:ae_review", args=[world.ae_a1.pk]), {
        "password": "nope", "sponsor_causality": "related", "expectedness": "expected",
    })
    assert response.status_code == 400
    assert "password is not correct" in response.content.decode()
    assert not Signature.objects.exists()


def test_a_signature_shows_invalidated_once_the_record_changes(world, client):
    signature = adverse_event_review(event=world.ae_a1, by=world.monitor, password=PASSWORD,
                                     sponsor_causality="related", expectedness="unexpected")
    client.force_login(world.crm)
    page = reverse("safety:ae_detail", args=[world.ae_a1.pk])
    assert "invalidated" not in client.get(page).content.decode()

    event = AdverseEvent.objects.get(pk=world.ae_a1.pk)
    from croportal.audit import audited_save

    event.severity_grade = 4
    audited_save(event, by=world.crm, reason="Grade corrected by site")
    assert not signature.is_valid_for(AdverseEvent.objects.get(pk=world.ae_a1.pk))
    assert "invalidated: the record changed after signing" in client.get(page).content.decode()


def test_only_the_trials_medical_monitor_may_sign(world):
    response = api_as(world.crm).post(
        f"/api/v1/adverse-events/{world.ae_a1.pk}/review/",
        {"password": PASSWORD, "sponsor_causality": "related", "expectedness": "expected"},
        format="json",
    )
    assert response.status_code == 403
    assert not Signature.objects.exists()


def test_signature_content_ignores_nothing_that_matters(world):
    signature = adverse_event_review(event=world.ae_a1, by=world.monitor, password=PASSWORD,
                                     sponsor_causality="related", expectedness="unexpected")
    trial_update(trial=world.trial_a, by=world.crm, reason="unrelated record", title="X")
    assert signature.is_valid_for(AdverseEvent.objects.get(pk=world.ae_a1.pk))
