"""Property-based fuzzing of every API operation from the OpenAPI schema (schemathesis):
whatever the input, the API never answers with a server error."""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

# The schema is generated in-process (the served one needs a login) and called in-process.
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
)
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Called as a bare WSGI app, Django would close the test's connection after each request
    (request_finished → close_old_connections); Django's own test client turns that off too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def crm_token(world) -> str:
    from staffing.tokens import api_token_issue

    return api_token_issue(user=world.crm)


def own_object_id(world, path: str) -> int:
    """Point path ids at objects the CRM can see, so that fuzzed bodies reach real records."""
    from safety.models import CtcaeTerm
    from staffing.models import Assignment
    from tests.api.permissions.safety import obligation_of

    resource = path.split("/")[3]
    return {
        "trials": lambda: world.trial_a.pk,
        "sites": lambda: world.site_a1.pk,
        "subjects": lambda: world.subject_a1.pk,
        "adverse-events": lambda: world.ae_a1.pk,
        "assignments": lambda: Assignment.objects.filter(trial=world.trial_a).first().pk,
        "ctcae-terms": lambda: CtcaeTerm.objects.order_by("pk").first().pk,
        "training-records": lambda: _cra_training_record(world).pk,
        "deadlines": lambda: world.deadline_a.pk,
        "notifications": lambda: _crm_notification(world).pk,
        "milestones": lambda: world.milestone_a.pk,
        "amendments": lambda: world.amendment_a.pk,
        "consent-versions": lambda: world.icf_a.pk,
        "essential-documents": lambda: world.document_a1.pk,
        "site-consent-versions": lambda: world.site_icf_a1.pk,
        "consent-records": lambda: world.consent_a1.pk,
        "reporting-obligations": lambda: obligation_of(world, "ae_a1").pk,
    }[resource]()


def _crm_notification(world):
    from reminders.models import Notification

    return Notification.objects.filter(user=world.crm).first() or Notification.objects.create(
        user=world.crm, kind="task", message="Escalation: a task is overdue", url="/deadlines/")


def _cra_training_record(world):
    """A training record of the CRA of A, whose training the CRM may correct."""
    from staffing.models import TrainingRecord
    from staffing.services import training_record_create

    return TrainingRecord.objects.filter(user=world.cra).first() or training_record_create(
        user=world.cra, kind="gcp", completed_on=world.cra_assignment.start_date,
        by=world.admin)


@schema.parametrize()
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_api_fail_with_a_server_error(case, world, crm_token):
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = own_object_id(world, case.path)
    if isinstance(case.body, dict):
        # Random integers are never valid foreign keys; use real ones so bodies get through.
        valid = {"sponsor": world.sponsor_a.pk, "trial": world.trial_a.pk,
                 "site": world.site_a2.pk, "user": world.cra.pk, "owner": world.cra.pk,
                 "escalation_user": world.crm.pk, "consent_version": world.icf_a.pk,
                 "subject": world.subject_a1.pk}
        case.body.update({k: v for k, v in valid.items() if k in case.body})
    response = case.call(headers={"Authorization": f"Token {crm_token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.body!r} -> {response.status_code}: "
        f"{response.text[:500]}"
    )
