"""The adverse-event list, the obligations list and the medical monitor's queue run the same
number of queries with 1 case or with 500 (rows are stored results: no rule runs per row at
read time)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safety.models import AdverseEvent, ReportingObligation
from tests.conftest import api_as
from tests.factories import AdverseEventFactory, SubjectFactory


def more_cases(event: AdverseEvent, n: int) -> None:
    """n copies of a case with an obligation each, written straight to the tables: this test
    reads them, the services' tests write them."""
    aware = event.sponsor_awareness_at
    copies = AdverseEvent.objects.bulk_create([
        AdverseEvent(subject=event.subject, trial=event.trial, site=event.site,
                     verbatim_term=f"copy {i}", term=event.term, onset_date=event.onset_date,
                     severity_grade=3, seriousness_criteria=["hospitalization"],
                     site_awareness_at=aware, sponsor_awareness_at=aware, is_susar=True,
                     next_due_on=timezone.localdate() + timedelta(days=i % 20))
        for i in range(n)])
    ReportingObligation.objects.bulk_create([
        ReportingObligation(adverse_event=copy, trial=event.trial, rule="FDA_IND_15_DAY",
                            framework="FDA_IND", recipient="FDA", report_type="initial",
                            clock_start_at=aware, due_on=copy.next_due_on)
        for copy in copies])


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", [
    "/api/v1/adverse-events/?page_size=200",
    "/api/v1/adverse-events/?serious=true&page_size=200",
    "/api/v1/reporting-obligations/?status=open&page_size=200",
])
def test_safety_lists_do_not_grow_with_cases(site, monitor, url):
    event = AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True))
    more_cases(event, 1)  # two cases, one obligation
    client = api_as(monitor)
    few = queries(client, url)
    more_cases(event, 498)
    assert AdverseEvent.objects.count() == 500
    assert queries(client, url) == few


def test_the_queue_does_not_grow_with_cases(client, site, monitor):
    event = AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True))
    more_cases(event, 1)
    client.force_login(monitor)
    few = queries(client, reverse("safety:queue"))
    more_cases(event, 498)
    response = client.get(reverse("safety:queue"))
    links = response.content.decode().count('href="/safety/adverse-events/')
    assert links >= 100  # a full page (50) of cases and of obligations
    assert queries(client, reverse("safety:queue")) == few
