"""One helper applies editable fields: every service refuses a field it does not edit, on that
field, and writes nothing."""

from datetime import date

import pytest

from croportal.exceptions import ApplicationError
from staffing.models import TrainingRecord
from staffing.services import training_record_create, training_record_update
from trials.models import Trial
from trials.services import trial_create


def test_a_trial_is_not_created_with_a_field_the_service_does_not_set(world):
    before = Trial.objects.count()
    with pytest.raises(ApplicationError) as refused:
        trial_create(by=world.crm, sponsor=world.sponsor_a, protocol_number="X-1", title="X",
                     phase="II", revision=7)
    assert refused.value.field == "revision"
    assert Trial.objects.count() == before


def test_a_training_record_correction_refuses_a_field_it_does_not_edit(world):
    record = training_record_create(user=world.cra, by=world.cra, kind=TrainingRecord.Kind.GCP,
                                    completed_on=date(2026, 1, 10))
    revision = record.revision
    with pytest.raises(ApplicationError) as refused:
        training_record_update(record=record, by=world.cra, reason="typo", user=world.crm)
    assert refused.value.field == "user"
    record.refresh_from_db()
    assert (record.user, record.revision) == (world.cra, revision)
