"""A reader's grants are read once per request (access.grants), never kept beyond it, and read
anew inside a request that changed them (permissions_sync forgets them)."""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.checks import may_manage_staff, may_view_trial, trial_ids_held
from access.codenames import VIEW_TRIAL
from access.grants import GrantsPerRequestMiddleware
from staffing.models import Role
from tests.factories import TrialFactory, UserFactory, assigned, crm_of

pytestmark = pytest.mark.django_db


def in_a_request(view):
    """Run `view()` as the middleware would around a request; its result is returned."""
    box = {}

    def respond(request):
        box["result"] = view()
        return HttpResponse()

    GrantsPerRequestMiddleware(respond)(RequestFactory().get("/"))
    return box["result"]


def test_checks_in_one_request_read_the_grants_once():
    trial, other = TrialFactory(), TrialFactory()
    crm = crm_of(trial)

    def checks():
        with CaptureQueriesContext(connection) as ctx:
            answers = (may_view_trial(user=crm, trial=trial), may_manage_staff(user=crm,
                       trial=trial), may_view_trial(user=crm, trial=other),
                       trial_ids_held(user=crm, codenames=(VIEW_TRIAL,))[VIEW_TRIAL])
        return answers, len(ctx.captured_queries)

    answers, queries = in_a_request(checks)
    assert answers == (True, True, False, [trial.pk])
    assert queries == 1
    _, outside = checks()  # no request: read each time
    assert outside == 4


def test_a_request_that_changes_grants_sees_the_new_ones():
    trial = TrialFactory()
    newcomer = UserFactory()

    def assign_then_check():
        before = may_view_trial(user=newcomer, trial=trial)
        assigned(newcomer, trial, Role.CRA)
        return before, may_view_trial(user=newcomer, trial=trial)

    assert in_a_request(assign_then_check) == (False, True)


def test_grants_do_not_outlive_the_request(client):
    trial = TrialFactory()
    newcomer = UserFactory()
    client.force_login(newcomer)
    assert client.get(reverse("trials:detail", args=[trial.pk])).status_code == 404
    assigned(newcomer, trial, Role.CRA)
    assert client.get(reverse("trials:detail", args=[trial.pk])).status_code == 200
