"""A signature, once invalidated by a change of the signed record, stays invalidated even if
the values are changed back: the invalidation is recorded (append-only), not recomputed."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from croportal.audit import audited_save
from safety.models import AdverseEvent
from safety.services import adverse_event_review
from staffing.models import Signature, SignatureInvalidation
from tests.conftest import PASSWORD
from tests.factories import AdverseEventFactory, monitor_of


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


def signed(monitor, event) -> Signature:
    return adverse_event_review(event=event, by=monitor, password=PASSWORD,
                                sponsor_causality="related", expectedness="unexpected")


def change_grade(crm, event, grade: int, reason: str) -> None:
    fresh = AdverseEvent.objects.get(pk=event.pk)
    fresh.severity_grade = grade
    audited_save(fresh, by=crm, reason=reason)


def test_a_change_records_who_when_and_why_the_signature_was_invalidated(crm, event, monitor):
    signature = signed(monitor, event)
    change_grade(crm, event, 4, "Grade corrected by site")
    invalidation = SignatureInvalidation.objects.get(signature=signature)
    assert invalidation.changed_by == crm
    assert invalidation.change_reason == "Grade corrected by site"
    event = AdverseEvent.objects.get(pk=event.pk)
    assert invalidation.record_revision == event.revision
    assert invalidation.history_id == event.history.order_by("-history_id").first().history_id


def test_changing_the_value_back_leaves_the_signature_invalidated(event, crm, monitor, client):
    signature = signed(monitor, event)
    change_grade(crm, event, 4, "Grade corrected by site")
    change_grade(crm, event, 3, "Correction withdrawn")
    event = AdverseEvent.objects.get(pk=event.pk)
    assert not signature.is_valid_for(event)
    assert SignatureInvalidation.objects.filter(signature=signature).count() == 1
    client.force_login(crm)
    page = client.get(reverse("safety:ae_detail", args=[event.pk])).content.decode()
    assert "invalidated: the record changed after signing" in page
    assert "Grade corrected by site" in page  # the recorded change, not a recomputation


def test_the_display_reads_the_recorded_invalidation_even_when_the_hash_matches(
        event, crm, monitor):
    signature = signed(monitor, event)
    event = AdverseEvent.objects.get(pk=event.pk)
    SignatureInvalidation.objects.create(signature=signature, invalidated_at=event.updated_at,
                                         changed_by=crm, content_hash="0" * 64)
    assert signature.content_hash != "0" * 64
    assert not signature.is_valid_for(event)


def test_a_save_that_changes_nothing_signed_invalidates_nothing(trial, crm, event, monitor):
    signature = signed(monitor, event)
    trial.title = "Renamed"
    audited_save(trial, by=crm, reason="Title")
    assert not SignatureInvalidation.objects.exists()
    assert signature.is_valid_for(AdverseEvent.objects.get(pk=event.pk))


def test_a_new_review_invalidates_the_earlier_signature_but_not_itself(monitor, event):
    first = signed(monitor, event)
    second = signed(monitor, event)
    assert SignatureInvalidation.objects.filter(signature=first).exists()
    assert not SignatureInvalidation.objects.filter(signature=second).exists()


@pytest.mark.parametrize("statement", [
    "DELETE FROM staffing_signatureinvalidation",
    "UPDATE staffing_signatureinvalidation SET change_reason = 'forged'",
])
def test_the_runtime_cannot_delete_or_rewrite_an_invalidation_on_postgres(
        monitor, event, crm, postgres, statement):
    signed(monitor, event)
    change_grade(crm, event, 4, "Grade corrected by site")
    # The runtime role lacks the privilege; with one role for both, the trigger refuses.
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert SignatureInvalidation.objects.count() == 1
