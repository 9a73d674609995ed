"""The safety lists (issue 12): a trial's adverse-event cases and the reporting obligations,
through the one list mechanism — pages of 50, sort, filters, search, htmx, exports of every
filtered row (CSV and XLSX, labels not codes, dates as dates), the reader's scope (sponsor
viewers never see a case), bounded queries; the trial's safety page shows the first rows."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from safety.models import AdverseEvent, ReportingObligation
from tests.exports import csv_rows, xlsx_rows
from tests.factories import (
    AdverseEventFactory,
    SiteFactory,
    SubjectFactory,
    cra_of,
    crm_of,
    sponsor_viewer_of,
)

pytestmark = pytest.mark.django_db
CASES = 62  # more than a page of 50


@pytest.fixture
def cases(site, monitor):
    """One case entered by the services, then 61 copies written straight to the table (this
    module reads them): onsets on distinct days, every third one not serious, every fourth a
    SUSAR, the last two at a second site."""
    event = AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True))
    other = SiteFactory(trial=site.trial, number="902")
    other_subject = SubjectFactory(site=other, enrolled=True)
    aware = event.sponsor_awareness_at
    AdverseEvent.objects.bulk_create([
        AdverseEvent(subject=other_subject if n >= CASES - 3 else event.subject,
                     trial=event.trial, site=other if n >= CASES - 3 else site,
                     verbatim_term=f"rash {n:02d}" if n % 5 == 0 else f"fever {n:02d}",
                     term=None, onset_date=date(2026, 1, 1) + timedelta(days=n),
                     severity_grade=1 + n % 3,
                     seriousness_criteria=[] if n % 3 == 0 else ["hospitalization"],
                     outcome="recovered_with_sequelae" if n % 2 else "recovering",
                     site_awareness_at=aware + timedelta(minutes=n),
                     sponsor_awareness_at=aware + timedelta(minutes=n), is_susar=n % 4 == 0,
                     review_status="reviewed" if n % 7 == 0 else "pending")
        for n in range(1, CASES)])
    return AdverseEvent.objects.filter(trial=site.trial)


def url_of(trial) -> str:
    return f"/safety/trials/{trial.pk}/cases/"


def case_ids(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].paginated_rows]


# ------------------------------------------------------------------------------ the cases list

def test_the_case_list_pages_by_fifty_newest_first(client, monitor, trial, cases):
    client.force_login(monitor)
    first = client.get(url_of(trial))
    assert first.status_code == 200
    newest = list(cases.order_by("-sponsor_awareness_at", "id").values_list("pk", flat=True))
    assert case_ids(first) == newest[:50]
    assert case_ids(client.get(url_of(trial), {"page": 2})) == newest[50:]
    assert "Page 1 of 2" in first.content.decode()


def test_the_case_list_sorts_by_onset_and_subject(client, monitor, trial, cases):
    client.force_login(monitor)
    up = case_ids(client.get(url_of(trial), {"sort": "onset_date"}))
    assert up[:3] == list(cases.order_by("onset_date", "pk").values_list("pk", flat=True))[:3]
    down = client.get(url_of(trial), {"sort": "-onset_date"}).context["table"]
    onsets = [row.record.onset_date for row in down.paginated_rows]
    assert onsets == sorted(onsets, reverse=True)


@pytest.mark.parametrize(("query", "lookup"), [
    ({"serious": "true"}, lambda qs: qs.exclude(seriousness_criteria=[])),
    ({"serious": "false"}, lambda qs: qs.filter(seriousness_criteria=[])),
    ({"is_susar": "true"}, lambda qs: qs.filter(is_susar=True)),
    ({"review_status": "pending"}, lambda qs: qs.filter(review_status="pending")),
    ({"onset_date_after": "2026-01-10", "onset_date_before": "2026-01-20"},
     lambda qs: qs.filter(onset_date__range=(date(2026, 1, 10), date(2026, 1, 20)))),
    ({"q": "rash"}, lambda qs: qs.filter(verbatim_term__icontains="rash")),
])
def test_the_filters_and_the_search_select_the_cases(client, monitor, trial, cases, query,
                                                     lookup):
    client.force_login(monitor)
    response = client.get(url_of(trial), {**query, "sort": "onset_date"})
    want = list(lookup(cases).order_by("onset_date", "pk").values_list("pk", flat=True))
    assert 0 < len(want) < CASES
    assert case_ids(response) == want[:50]
    assert response.context["table"].paginator.count == len(want)


def test_the_site_filter_offers_the_sites_with_cases(client, monitor, trial, cases):
    client.force_login(monitor)
    other = cases.get(verbatim_term__endswith=f"{CASES - 1:02d}").site
    response = client.get(url_of(trial), {"site": other.pk})
    assert set(case_ids(response)) == set(cases.filter(site=other).values_list("pk", flat=True))
    assert response.context["filter"].filters["site"].queryset.count() == 2


def test_a_bad_filter_selects_nothing_and_says_why(client, monitor, trial, cases):
    client.force_login(monitor)
    assert client.get(url_of(trial), {"q": "x\x00"}).status_code == 400
    response = client.get(url_of(trial), {"serious": "maybe", "onset_date_after": "x"})
    assert response.status_code == 200
    assert case_ids(response) == []
    assert response.context["filter"].errors


def test_htmx_gets_only_the_case_table(client, monitor, trial, cases):
    client.force_login(monitor)
    response = client.get(url_of(trial), {"page": 2},
                          headers={"HX-Request": "true", "HX-Target": "list-adverse-events"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="list-adverse-events"' in html
    assert len(case_ids(response)) == CASES - 50


def test_the_case_export_holds_every_filtered_case_with_labels(client, monitor, trial, cases):
    client.force_login(monitor)
    query = {"serious": "true", "sort": "onset_date", "page": 2}
    want = list(cases.exclude(seriousness_criteria=[]).order_by("onset_date", "pk"))
    assert len(want) > 40
    header, *rows = csv_rows(client.get(url_of(trial), {**query, "export": "csv"}))
    assert header == ["Case", "Subject", "Term", "Onset", "Seriousness", "Grade", "SUSAR",
                      "Outcome", "Review", "Site"]
    assert [r[0] for r in rows] == [f"AE #{e.pk}" for e in want]
    assert [r[2] for r in rows] == [e.term.term if e.term else e.verbatim_term for e in want]
    assert rows[-1][3] == want[-1].onset_date.strftime("%d-%b-%Y")
    assert {r[7] for r in rows} >= {"Recovered with sequelae"}  # the label, not the code
    assert {r[6] for r in rows} == {"Yes", "No"}
    assert "hospitalization" in rows[0][4]
    xheader, *xrows = xlsx_rows(client.get(url_of(trial), {**query, "export": "xlsx"}))
    assert list(xheader) == header
    assert [r[0] for r in xrows] == [f"AE #{e.pk}" for e in want]
    assert [r[3].date() for r in xrows] == [e.onset_date for e in want]


def test_a_cra_lists_and_exports_only_their_sites_cases(client, site, trial, cases):
    client.force_login(cra_of(site))
    mine = set(cases.filter(site=site).values_list("pk", flat=True))
    assert 0 < len(mine) < CASES
    seen = set(case_ids(client.get(url_of(trial))))
    seen |= set(case_ids(client.get(url_of(trial), {"page": 2})))
    assert seen == mine
    _, *rows = csv_rows(client.get(url_of(trial), {"export": "csv"}))
    assert {int(r[0].removeprefix("AE #")) for r in rows} == mine


def test_a_sponsor_viewer_never_gets_a_case_nor_an_export(client, trial, cases):
    client.force_login(sponsor_viewer_of(trial))
    for query in ({}, {"export": "csv"}, {"export": "xlsx"}):
        assert client.get(url_of(trial), query).status_code == 403
    assert client.get("/safety/obligations/", {"export": "csv"}).status_code == 403


def test_the_safety_page_shows_the_newest_cases_and_links_to_all(client, monitor, trial, cases):
    client.force_login(monitor)
    response = client.get(f"/safety/trials/{trial.pk}/")
    html = response.content.decode()
    assert len(response.context["latest"]) == 20
    assert f'href="{url_of(trial)}"' in html
    assert f"All {CASES} adverse events" in html


# ------------------------------------------------------------------------------ obligations

@pytest.fixture
def obligations(cases):
    """An obligation per case, due on distinct days around today; every fifth
    submitted."""
    today = timezone.localdate()
    rows = []
    for n, event in enumerate(cases.order_by("pk")):
        submitted = n % 5 == 0
        rows.append(ReportingObligation(
            adverse_event=event, trial=event.trial,
            rule="FDA_IND_15_DAY" if n % 2 else "FDA_IND_7_DAY", framework="FDA_IND",
            recipient="FDA", report_type="initial", clock_start_at=event.sponsor_awareness_at,
            due_on=today + timedelta(days=n - 10), status="submitted" if submitted else "open",
            submitted_at=timezone.now() if submitted else None, on_time=True if submitted
            else None))
    ReportingObligation.objects.bulk_create(rows)
    return ReportingObligation.objects.filter(trial=cases.first().trial)


def obligation_ids(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].paginated_rows]


def test_the_obligations_list_pages_nearest_due_first_and_filters(client, monitor, trial,
                                                                  obligations):
    client.force_login(monitor)
    everything = list(obligations.order_by("due_on", "pk").values_list("pk", flat=True))
    assert len(everything) > 50
    assert obligation_ids(client.get("/safety/obligations/")) == everything[:50]
    response = client.get("/safety/obligations/", {"state": "overdue", "trial": trial.pk})
    today = timezone.localdate()
    assert obligation_ids(response) == list(
        obligations.filter(status="open", due_on__lt=today).order_by("due_on", "pk")
        .values_list("pk", flat=True))
    sent = obligation_ids(client.get("/safety/obligations/", {"state": "submitted"}))
    assert sent == list(obligations.filter(status="submitted").order_by("due_on", "pk")
                        .values_list("pk", flat=True))
    seven = obligation_ids(client.get("/safety/obligations/", {"rule": "FDA_IND_7_DAY"}))
    assert set(seven) == set(obligations.filter(rule="FDA_IND_7_DAY").values_list("pk",
                                                                                 flat=True))
    ranged = obligation_ids(client.get("/safety/obligations/", {
        "due_on_after": today.isoformat(), "due_on_before": (today + timedelta(days=5))
        .isoformat()}))
    assert len(ranged) == 6


def test_the_obligations_export_holds_every_filtered_row(client, monitor, obligations):
    client.force_login(monitor)
    want = list(obligations.filter(status="open").order_by("-due_on", "-pk"))
    query = {"state": "open", "sort": "-due_on"}
    header, *rows = csv_rows(client.get("/safety/obligations/", {**query, "export": "csv"}))
    assert header[:3] == ["Rule", "Recipient", "Case"]
    assert len(rows) == len(want) > 30
    assert [r[2] for r in rows] == [f"AE #{o.adverse_event_id}" for o in want]
    assert rows[0][header.index("Due")] == want[0].due_on.strftime("%d-%b-%Y")
    assert {r[header.index("State")] for r in rows} == {"Open"}
    _, *xrows = xlsx_rows(client.get("/safety/obligations/", {**query, "export": "xlsx"}))
    assert [r[header.index("Due")].date() for r in xrows] == [o.due_on for o in want]


def test_a_crm_sees_the_obligations_of_their_trial_only(client, trial, obligations):
    client.force_login(crm_of(trial))
    response = client.get("/safety/obligations/")
    assert response.context["table"].paginator.count == obligations.count()
    from tests.factories import TrialFactory

    assert client.get("/safety/obligations/", {"trial": TrialFactory().pk}).context[
        "table"].paginator.count == 0


# ------------------------------------------------------------------------------ bounded queries

def queries(client, url: str, query: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("path", ["cases", "obligations", "safety"])
def test_the_safety_lists_run_as_many_queries_for_many_rows_as_for_few(client, site, monitor,
                                                                        path):
    from tests.safety.test_safety_lists_are_bounded import more_cases

    event = AdverseEventFactory(subject=SubjectFactory(site=site, enrolled=True))
    more_cases(event, 2)
    url = {"cases": url_of(site.trial), "obligations": "/safety/obligations/",
           "safety": f"/safety/trials/{site.trial.pk}/"}[path]
    client.force_login(monitor)
    few = queries(client, url, {"sort": "site"} if path != "safety" else None)
    more_cases(event, 120)
    assert queries(client, url, {"sort": "site"} if path != "safety" else None) == few


# ------------------------------------------------------------------------------ the queue

def queue_ids(response, name: str) -> list[int]:
    return [row.record.pk for row in response.context[name]["table"].paginated_rows]


def test_the_queues_two_lists_page_and_sort_each_under_its_own_prefix(client, monitor,
                                                                       obligations, cases):
    client.force_login(monitor)
    pending = cases.exclude(seriousness_criteria=[]).filter(review_status="pending")
    open_ones = obligations.filter(status="open")
    assert pending.count() > 30
    assert open_ones.count() > 30
    response = client.get("/safety/queue/", {"obligations_sort": "-due_on",
                                             "cases_sort": "-severity_grade"})
    assert queue_ids(response, "cases") == list(
        pending.order_by("-severity_grade", "pk").values_list("pk", flat=True))
    assert queue_ids(response, "obligations") == list(
        open_ones.order_by("-due_on", "pk").values_list("pk", flat=True))
    html = response.content.decode()
    assert "obligations_sort=due_on" in html  # the header link flips its own list's sort
    assert 'id="list-queue-cases"' in html
    assert 'id="list-queue-obligations"' in html


def test_htmx_swaps_the_queue_list_it_targets_only(client, monitor, obligations):
    client.force_login(monitor)
    response = client.get("/safety/queue/", {"obligations_page": 1},
                          headers={"HX-Request": "true", "HX-Target": "list-queue-obligations"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="list-queue-obligations"' in html
    assert 'id="list-queue-cases"' not in html


@pytest.mark.parametrize("state", ["open", "submitted", "overdue"])
def test_each_queue_list_exports_every_filtered_row(client, monitor, trial, obligations, cases,
                                                    state):
    client.force_login(monitor)
    query = {"trial": trial.pk, "state": state, "obligations_sort": "-due_on",
             "obligations_page": 2, "list": "obligations"}
    header, *rows = csv_rows(client.get("/safety/queue/", {**query, "export": "csv"}))
    chosen = {"open": obligations.filter(status="open"),
              "submitted": obligations.filter(status="submitted"),
              "overdue": obligations.filter(status="open", due_on__lt=timezone.localdate())}
    want = list(chosen[state].order_by("-due_on", "pk"))
    assert header[:3] == ["Due", "Rule", "Recipient"]
    assert [r[header.index("Case")] for r in rows] == [f"AE #{o.adverse_event_id}"
                                                       for o in want]
    assert rows[0][0] == want[0].due_on.strftime("%d-%b-%Y")
    _, *xrows = xlsx_rows(client.get("/safety/queue/", {**query, "export": "xlsx"}))
    assert [r[0].date() for r in xrows] == [o.due_on for o in want]
    header, *rows = csv_rows(client.get("/safety/queue/", {"export": "csv", "list": "cases"}))
    pending = cases.exclude(seriousness_criteria=[]).filter(review_status="pending")
    assert len(rows) == pending.count() > 30
    assert header[0] == "Review due"


def test_a_bad_export_or_list_on_the_queue_is_a_400(client, monitor, obligations):
    client.force_login(monitor)
    assert client.get("/safety/queue/", {"export": "pdf"}).status_code == 400
    assert client.get("/safety/queue/", {"export": "csv", "list": "x"}).status_code == 400


def test_a_big_queue_export_becomes_a_job_in_the_lists_order(client, monitor, obligations,
                                                             settings, tmp_path):
    from reminders.models import ExportJob
    from reminders.services.exports import export_run

    settings.EXPORT_SYNC_MAX_ROWS = 10
    settings.STORAGES = {**settings.STORAGES, "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path}}}
    client.force_login(monitor)
    response = client.get("/safety/queue/", {"list": "obligations", "obligations_sort": "-due_on",
                                             "export": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    export_run(job_id=job.pk)
    body = b"".join(client.get(f"/exports/{job.pk}/file/").streaming_content)
    _, *rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    want = obligations.filter(status="open").order_by("-due_on", "pk")
    assert [r[4] for r in rows] == [f"AE #{o.adverse_event_id}" for o in want]
