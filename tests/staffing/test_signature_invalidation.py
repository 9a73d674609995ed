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


def signed(world) -> Signature:
    return adverse_event_review(event=world.ae_a1, by=world.monitor, password=PASSWORD,
                                sponsor_causality="related", expectedness="unexpected")


def change_grade(world, grade: int, reason: str) -> None:
    event = AdverseEvent.objects.get(pk=world.ae_a1.pk)
    event.severity_grade = grade
    audited_save(event, by=world.crm, reason=reason)


def test_a_change_records_who_when_and_why_the_signature_was_invalidated(world):
    signature = signed(world)
    change_grade(world, 4, "Grade corrected by site")
    invalidation = SignatureInvalidation.objects.get(signature=signature)
    assert invalidation.changed_by == world.crm
    assert invalidation.change_reason == "Grade corrected by site"
    event = AdverseEvent.objects.get(pk=world.ae_a1.pk)
    assert invalidation.record_revision == event.revision
    assert invalidation.history_id == event.history.order_by("-history_id").first().history_id


def test_changing_the_value_back_leaves_the_signature_invalidated(world, client):
    signature = signed(world)
    change_grade(world, 4, "Grade corrected by site")
    change_grade(world, 3, "Correction withdrawn")
    event = AdverseEvent.objects.get(pk=world.ae_a1.pk)
    assert not signature.is_valid_for(event)
    assert SignatureInvalidation.objects.filter(signature=signature).count() == 1
    client.force_login(world.crm)
    page = client.get(reverse("safety:ae_detail", args=[world.ae_a1.pk])).content.decode()
    assert "invalidated: the record changed after signing" in page
    assert "Grade corrected by site" in page  # the recorded change, not a recomputation


def test_the_display_reads_the_recorded_invalidation_even_when_the_hash_matches(world):
    signature = signed(world)
    event = AdverseEvent.objects.get(pk=world.ae_a1.pk)
    SignatureInvalidation.objects.create(signature=signature, invalidated_at=event.updated_at,
                                         changed_by=world.crm, content_hash="0" * 64)
    assert signature.content_hash != "0" * 64
    assert not signature.is_valid_for(event)


def test_a_save_that_changes_nothing_signed_invalidates_nothing(world):
    signature = signed(world)
    world.trial_a.title = "Renamed"
    audited_save(world.trial_a, by=world.crm, reason="Title")
    assert not SignatureInvalidation.objects.exists()
    assert signature.is_valid_for(AdverseEvent.objects.get(pk=world.ae_a1.pk))


def test_a_new_review_invalidates_the_earlier_signature_but_not_itself(world):
    first = signed(world)
    second = signed(world)
    assert SignatureInvalidation.objects.filter(signature=first).exists()
    assert not SignatureInvalidation.objects.filter(signature=second).exists()


@pytest.mark.parametrize("statement", [
    "DELETE FROM staffing_signatureinvalidation",
    "UPDATE staffing_signatureinvalidation SET change_reason = 'forged'",
])
def test_the_runtime_cannot_delete_or_rewrite_an_invalidation_on_postgres(world, postgres,
                                                                          statement):
    signed(world)
    change_grade(world, 4, "Grade corrected by site")
    # The runtime role lacks the privilege; with one role for both, the trigger refuses.
    with pytest.raises(DatabaseError, match=r"permission denied|append-only"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert SignatureInvalidation.objects.count() == 1
