"""No lost update: concurrent writers on one record, against PostgreSQL's row locks."""

import itertools
import threading

import pytest
from django.db import connection

from tests.conftest import api_as
from tests.factories import AdminFactory, TrialFactory, crm_of
from trials.models import Trial

EDITS = {
    "title": "A retitled study",
    "therapeutic_area": "Cardiology",
    "indication": "Heart failure",
    "eu_ct_number": "2026-500123-45-00",
    "investigational_product": "AUR-999",
    "safety_timezone": "Europe/Paris",
    "dibd": "2019-05-01",
    "target_enrollment": 321,
}


def run_at_once(jobs) -> list:
    """Start every job at the same moment, each on its own thread and database connection."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def patch(user, trial_id, field, value):
    return lambda: api_as(user).patch(
        f"/api/v1/trials/{trial_id}/", {field: value, "change_reason": f"Set {field}"},
        format="json").status_code


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_patches_of_different_fields_all_land(postgres):
    trial = TrialFactory()
    crm = crm_of(trial)
    trial_id = trial.pk
    before = Trial.history.filter(id=trial_id).count()
    statuses = run_at_once([patch(crm, trial_id, f, v) for f, v in EDITS.items()])
    assert statuses == [200] * len(EDITS)
    body = api_as(crm).get(f"/api/v1/trials/{trial_id}/").json()
    for field, value in EDITS.items():
        assert body[field] == value, field
    rows = list(Trial.history.filter(id=trial_id).order_by("history_id"))[before - 1:]
    assert len(rows) == len(EDITS) + 1
    # Each audit row changes exactly the field its reason names: none undoes another's edit.
    for older, newer in itertools.pairwise(rows):
        changed = newer.diff_against(older, excluded_fields=["updated_at", "revision"])
        assert set(changed.changed_fields) == {newer.history_change_reason.removeprefix("Set ")}
    assert body["revision"] == trial.revision + len(EDITS)


@pytest.mark.django_db(transaction=True)
def test_a_status_transition_racing_an_edit_is_not_undone(postgres):
    admin = AdminFactory()
    trial = Trial.objects.get(pk=TrialFactory().pk)
    assert trial.status == "planning"
    client_id = trial.pk
    transition = lambda: api_as(admin).post(  # noqa: E731
        f"/api/v1/trials/{client_id}/transition/",
        {"status": "startup", "change_reason": "Start-up"}, format="json").status_code
    for round_ in range(3):
        title = f"Edited while moving {round_}"
        statuses = run_at_once([transition, patch(admin, client_id, "title", title)])
        assert statuses == [200, 200]
        trial.refresh_from_db()
        assert (trial.status, trial.title) == ("startup", title)
        Trial.objects.filter(pk=client_id).update(status="planning")


@pytest.mark.django_db(transaction=True)
def test_two_writers_from_one_etag_the_second_gets_412(postgres):
    trial = TrialFactory()
    crm, admin = crm_of(trial), AdminFactory()
    url = f"/api/v1/trials/{trial.pk}/"
    etag = api_as(crm).get(url)["ETag"]
    statuses = run_at_once([
        lambda: api_as(crm).patch(url, {"title": "Mine", "change_reason": "R"},
                                  format="json", HTTP_IF_MATCH=etag).status_code,
        lambda: api_as(admin).patch(url, {"title": "Yours", "change_reason": "R"},
                                    format="json", HTTP_IF_MATCH=etag).status_code,
    ])
    assert sorted(statuses) == [200, 412]
    winner = "Mine" if statuses[0] == 200 else "Yours"
    assert Trial.objects.get(pk=trial.pk).title == winner
