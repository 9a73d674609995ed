"""Safety lists at a CRO's scale (issue 13): the medical monitor's queue offers the sites of
the chosen trial only (a monitor of 20 trials has thousands); the queue and the obligation
lists read their rows through indexes in their order, and the visibility of cases is one
index per scope, not a filter on every case. On PostgreSQL, EXPLAIN with sequential scans and
sorts priced out shows that those plans exist."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safety.lists import obligation_rows
from safety.models import AdverseEvent
from safety.selectors import (
    adverse_events_visible_to,
    obligation_queue_for,
    review_queue_for,
    trial_case_counts,
)
from staffing.models import Role
from tests.factories import (
    AdverseEventFactory,
    SiteFactory,
    SubjectFactory,
    TrialFactory,
    assigned,
    cra_of,
    monitor_of,
)
from tests.plans import plan_without_scans_or_sorts as plan_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_trials(db):
    first, second = TrialFactory(), TrialFactory()
    monitor = monitor_of(first)
    assigned(monitor, second, Role.MEDICAL_MONITOR)
    sites = [SiteFactory(trial=first, institution="First Clinic"),
             SiteFactory(trial=second, institution="Second Clinic")]
    for site in sites:
        AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True))
    return monitor, first, second, sites


def _site_options(response) -> str:
    html = response.content.decode()
    return html.split('name="site"', 1)[1].split("</select>", 1)[0]


def test_the_queue_offers_the_sites_of_the_chosen_trial_only(client, two_trials):
    monitor, first, _, (site_one, site_two) = two_trials
    client.force_login(monitor)
    url = reverse("safety:queue")
    unfiltered = client.get(url)
    assert f'value="{site_one.pk}"' not in _site_options(unfiltered)
    assert f'value="{site_two.pk}"' not in _site_options(unfiltered)
    assert "Choose a trial to pick one of its sites." in unfiltered.content.decode()
    chosen = client.get(url, {"trial": first.pk})
    assert f'value="{site_one.pk}"' in _site_options(chosen)
    assert f'value="{site_two.pk}"' not in _site_options(chosen)
    by_site = client.get(url, {"site": site_two.pk})  # a link naming a site, no trial
    assert by_site.status_code == 200
    assert f'value="{site_two.pk}" selected' in _site_options(by_site)
    assert [row.event.site_id for row in by_site.context["case_rows"]] == [site_two.pk]
    assert client.get(url, {"trial": first.pk, "site": site_two.pk}).status_code == 400



def test_the_queue_and_obligation_lists_read_indexes_in_their_order(postgres, two_trials):
    monitor = two_trials[0]
    queue = plan_of(review_queue_for(user=monitor)[:50])
    assert "ae_queue_order" in queue, queue
    assert "Seq Scan on safety_adverseevent" not in queue, queue
    due = plan_of(obligation_queue_for(user=monitor, now=timezone.now())[:50])
    assert "Seq Scan on safety_reportingobligation" not in due, due
    listed = plan_of(obligation_rows(user=monitor).order_by("due_on", "id")[:50])
    assert "obligation_list_order" in listed, listed


def test_case_visibility_is_an_index_per_scope(postgres, two_trials):
    monitor, first, _, (site_one, _) = two_trials
    cra = cra_of(site_one)
    assigned(cra, first, Role.CRA)  # trial-wide on the first trial
    for reader in (monitor, cra):
        plan = plan_of(adverse_events_visible_to(user=reader))
        assert "Seq Scan on safety_adverseevent" not in plan, plan
        assert "SubPlan" not in plan, plan


@pytest.fixture
def counted_trial(two_trials):
    """Five cases of the first trial: two not serious, one reviewed, one SUSAR; the second
    trial's case is not counted."""
    monitor, first, _, (site_one, _) = two_trials
    subject = SubjectFactory(site=site_one, enrolled=True)
    made = [AdverseEventFactory(subject=subject, seriousness_criteria=[]) for _ in range(2)]
    made += [AdverseEventFactory(subject=subject) for _ in range(2)]
    AdverseEvent.objects.filter(pk=made[2].pk).update(review_status="reviewed")
    AdverseEvent.objects.filter(pk=made[3].pk).update(is_susar=True)
    return monitor, first


def test_a_trials_case_counts_are_its_own(counted_trial):
    monitor, first = counted_trial
    counts = trial_case_counts(user=monitor, trial=first)
    # the fixture's case (serious, pending) and the four above
    assert counts == {"cases": 5, "serious": 3, "pending": 2, "susars": 1}
    assert trial_case_counts(user=cra_of(SiteFactory()), trial=first) == {
        "cases": 0, "serious": 0, "pending": 0, "susars": 0}


def test_a_trials_case_counts_read_indexes_not_its_cases(postgres, counted_trial):
    monitor, first = counted_trial
    with CaptureQueriesContext(connection) as ctx:
        trial_case_counts(user=monitor, trial=first)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + ctx.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ae_serious_trial" in plan, plan
    assert "ae_susar_trial" in plan, plan
    # the pending ones from a partial index too: the queue's, or the serious cases' (which
    # the planner picks on a table this small)
    assert ("ae_queue_trial" in plan or "ae_queue_order" in plan
            or plan.count("ae_serious_trial") >= 2), plan
    assert "Seq Scan on safety_adverseevent" not in plan, plan
