"""An audit trail through the one list mechanism: pages of 50, sorted by time both ways,
filtered by field, person and date range, searched, swapped by htmx, exported with
`?export=csv|xlsx` (every selected entry, not one page; labels; XLSX date-times), the raw CSV
route kept, the reader's scope, bounded queries."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from dashboards.selectors import audit_trail_of
from tests.exports import csv_rows
from tests.factories import TrialFactory, crm_of
from trials.models import Trial
from trials.services import trial_update

pytestmark = pytest.mark.django_db
EDITS = 60  # with its creation, 61 entries: more than a page
CREATED = "Trial created"  # the creation's reason


@pytest.fixture
def trial(db):
    return TrialFactory(protocol_number="AUD-1", title="Trial A")


@pytest.fixture
def edited(db):
    """A trial created, then edited 60 times by two people: the target every time, the title
    every tenth edit; the creation and the first thirty edits a day earlier than the rest
    (history rows are append-only: the clock is moved, not the rows)."""
    yesterday = timezone.now() - timedelta(days=1)
    with time_machine.travel(yesterday, tick=True):
        trial = TrialFactory(protocol_number="AUD-1", title="Trial A")
        first = crm_of(trial, first_name="Ada", last_name="Lovelace")
        second = crm_of(trial, first_name="Grace", last_name="Hopper")
    for n in range(EDITS):
        fields = {"target_enrollment": 200 + n}
        if n % 10 == 0:
            fields["title"] = f"Title {n}"
        edit = (Trial.objects.get(pk=trial.pk), first if n % 2 else second, f"Edit {n:02d}")
        if n < 30:
            with time_machine.travel(yesterday + timedelta(seconds=n + 1), tick=False):
                trial_update(trial=edit[0], by=edit[1], reason=edit[2], **fields)
        else:
            trial_update(trial=edit[0], by=edit[1], reason=edit[2], **fields)
    return {"first": first, "second": second, "trial": trial}


def url_of(trial) -> str:
    return f"/audit/trial/{trial.pk}/"


def reasons(response) -> list[str]:
    return [entry["reason"] for entry in response.context["entries"]]


def all_edits() -> list[str]:
    return [f"Edit {n:02d}" for n in range(EDITS)]


def test_the_trail_pages_by_fifty_oldest_first_and_sorts_by_time(client, edited):
    trial = edited["trial"]
    client.force_login(edited["first"])
    first = client.get(url_of(trial))
    assert first.status_code == 200
    assert reasons(first) == [CREATED, *all_edits()[:49]]
    assert reasons(client.get(url_of(trial), {"page": 2})) == all_edits()[49:]
    assert reasons(client.get(url_of(trial), {"sort": "-at"}))[:2] == ["Edit 59", "Edit 58"]
    assert "Page 1 of 2" in first.content.decode()


def test_the_filters_pick_a_field_a_person_a_date_range_and_words(client, edited):
    trial = edited["trial"]
    client.force_login(edited["first"])
    titled = reasons(client.get(url_of(trial), {"field": "title"}))
    assert titled == [CREATED, *[f"Edit {n:02d}" for n in range(0, EDITS, 10)]]
    by_first = reasons(client.get(url_of(trial), {"who": edited["first"].full_name}))
    assert by_first == [f"Edit {n:02d}" for n in range(1, EDITS, 2)]
    today = timezone.localdate().isoformat()
    recent = reasons(client.get(url_of(trial), {"at_after": today, "at_before": today}))
    assert recent == all_edits()[30:]
    # words match the reason, the person and the changes: 207 is Edit 07's new target and
    # Edit 08's old one
    assert reasons(client.get(url_of(trial), {"q": "207"})) == ["Edit 07", "Edit 08"]
    assert reasons(client.get(url_of(trial), {"q": "lovelace 207"})) == ["Edit 07"]


def test_a_bad_filter_selects_nothing_and_says_why(client, edited):
    client.force_login(edited["first"])
    response = client.get(url_of(edited["trial"]), {"field": "salary"})
    assert response.status_code == 200
    assert response.context["entries"] == []
    assert "field" in response.context["filter"].errors


def test_htmx_gets_only_the_trail_table(client, edited):
    client.force_login(edited["first"])
    response = client.get(url_of(edited["trial"]), {"page": 2},
                          headers={"HX-Request": "true", "HX-Target": "list-audit-trail"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="list-audit-trail"' in html
    assert "Edit 59" in html
    assert "Edit 10" not in html


def test_the_export_holds_every_selected_entry_with_labels(client, edited):
    trial = edited["trial"]
    client.force_login(edited["first"])
    query = {"field": "target enrollment", "sort": "-at", "page": 2}
    header, *rows = csv_rows(client.get(url_of(trial), {**query, "export": "csv"}))
    assert header[1:] == ["Who", "Action", "Reason", "Changes (old → new)"]
    assert header[0].startswith("When (")
    assert [r[3] for r in rows] == [CREATED, *all_edits()][::-1]  # 61 rows, not one page
    assert "target enrollment: 258 → 259" in rows[0][4]
    assert rows[-1][2] == "created"
    response = client.get(url_of(trial), {**query, "export": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    _, *xrows = list(book.active.iter_rows(values_only=True))
    assert [r[3] or "" for r in xrows] == [r[3] for r in rows]
    assert all(hasattr(r[0], "date") for r in xrows)  # a real date-time
    _, *titled = csv_rows(client.get(url_of(trial), {"field": "title", "export": "csv"}))
    assert [r[3] for r in titled] == [CREATED, *[f"Edit {n:02d}" for n in range(0, EDITS, 10)]]
    assert "title: Trial A → Title 0" in titled[1][4]


def test_the_raw_csv_route_still_lists_each_change_with_raw_value_and_label(client, edited):
    client.force_login(edited["first"])
    response = client.get(f"/audit/trial/{edited['trial'].pk}/csv/")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == ["at_utc", "who", "action", "reason", "field", "old", "new",
                             "old_label", "new_label"]
    assert {"reason": "Edit 59", "field": "target enrollment", "old": "258", "new": "259"}.items() \
        <= next(r for r in rows if r["reason"] == "Edit 59" and r["field"] ==
                "target enrollment").items()


def test_exports_keep_to_the_readers_scope(client, world):
    trial = world.trial_a
    client.force_login(world.outsider)
    assert client.get(url_of(trial), {"export": "csv"}).status_code == 404
    client.force_login(world.sponsor)
    assert client.get(url_of(trial), {"export": "xlsx"}).status_code == 200
    assert client.get(f"/audit/adverse-event/{world.ae_a1.pk}/",
                      {"export": "csv"}).status_code == 404


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_trail_runs_as_many_queries_for_many_entries_as_for_few(client, trial):
    crm = crm_of(trial)
    client.force_login(crm)
    trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason="One", title="T1")
    few = queries(client, url_of(trial))
    for n in range(70):
        trial_update(trial=Trial.objects.get(pk=trial.pk), by=crm, reason=f"More {n}",
                     target_enrollment=300 + n)
    assert queries(client, url_of(trial)) == few
    assert queries(client, url_of(trial) + "?page=2") == few


def changes_of(entry) -> dict[str, tuple[str, str]]:
    return {c.field: (c.old_label, c.new_label) for c in entry["changes"]}


def test_a_page_of_the_whole_trail_reads_its_rows_and_compares_across_the_page_edge(
        client, edited):
    """Unfiltered, in time order: the page's entries (and the one before the first) are read
    with LIMIT/OFFSET, not the whole history; the first entry of page 2 is still compared
    with the last of page 1, and the numbering is the entry's place in the whole trail."""
    trial = edited["trial"]
    client.force_login(edited["first"])
    with CaptureQueriesContext(connection) as ctx:
        second = client.get(url_of(trial), {"page": 2})
    history_reads = [q["sql"] for q in ctx.captured_queries  # the entries, in time order
                     if "historicaltrial" in q["sql"] and "ORDER BY" in q["sql"]]
    assert history_reads
    assert all("LIMIT" in sql for sql in history_reads)
    entries = second.context["entries"]
    assert [e["pk"] for e in entries] == list(range(51, 62))
    assert entries[0]["reason"] == "Edit 49"
    assert changes_of(entries[0])["target enrollment"] == ("248", "249")
    assert "title" not in changes_of(entries[0])  # compared with Edit 48, not shown in full
    newest = client.get(url_of(trial), {"sort": "-at", "page": 2}).context["entries"]
    assert [e["reason"] for e in newest] == [*reversed(all_edits()[:10]), CREATED]
    assert changes_of(newest[0])["target enrollment"] == ("208", "209")
    assert newest[-1]["action"] == "created"
    assert newest[-1]["pk"] == 1


def test_the_whole_trail_offers_every_compared_field_and_everyone_in_it(client, edited):
    trial = edited["trial"]
    client.force_login(edited["first"])
    form = client.get(url_of(trial)).context["filter"].form
    people = [value for value, _ in form.fields["who"].choices if value]
    assert people == sorted({e["who"] for e in audit_trail_of(record=trial)})
    assert {"Ada Lovelace", "Grace Hopper"} <= set(people)
    fields = [value for value, _ in form.fields["field"].choices if value]
    assert {"target enrollment", "title"} <= set(fields)
    assert "updated at" not in fields
