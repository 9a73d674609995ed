"""The deadline and notification lists on the one list mechanism: my deadlines (overdue first,
open by default, filters by trial/kind/state, search), a trial's deadlines for its CRM (owner
filter, reassign), notifications (unread filter, read actions): pages of 50, sort, htmx,
CSV/XLSX exports equal to the filtered rows, scope, bounded queries."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reminders.models import Deadline, Notification
from reminders.selectors import deadline_owner_ids_of_trial
from reminders.services import deadline_complete, deadline_create_manual
from tests.exports import csv_rows, xlsx_rows
from tests.factories import SiteFactory, TrialFactory, UserFactory, cra_of, crm_of

pytestmark = pytest.mark.django_db

MY = "/deadlines/"
NOTES = "/notifications/"


@pytest.fixture
def many(trial, site, crm, cra):
    """60 open deadlines of the CRA set by the CRM (the first 30 overdue; every third a visit
    report), 3 done ones, and one deadline of someone else."""
    now = timezone.now()
    for n in range(60):
        deadline_create_manual(by=crm, kind="visit_report" if n % 3 == 0 else "task",
                               trial=trial, owner=cra, title=f"D-{n:03d}",
                               due_at=now + timedelta(days=n - 30, hours=1))
    for n in range(3):
        done = deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra,
                                      title=f"Closed-{n}", due_at=now + timedelta(days=n))
        deadline_complete(deadline=done, by=cra)
    other = cra_of(SiteFactory(trial=TrialFactory()))
    deadline_create_manual(by=other, kind="task", trial=other.assignments.get().trial,
                           owner=other, title="D-999 not mine", due_at=now)
    return cra


def titles(response) -> list[str]:
    html = response.content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r">(D-\d{3}|Closed-\d)<", body)


def expected_titles(user, **filters) -> list[str]:
    rows = Deadline.objects.filter(owner=user, **filters).order_by("-due_at", "-pk")
    return list(rows.values_list("title", flat=True))


# ------------------------------------------------------------------------------ my deadlines

def test_my_deadlines_page_fifty_open_ones_overdue_first(client, many):
    client.force_login(many)
    first = client.get(MY)
    assert first.status_code == 200
    assert titles(first) == [f"D-{n:03d}" for n in range(50)]  # overdue (0-29) lead
    assert re.search(r'<tr class="[^"]*\boverdue\b', first.content.decode())
    assert "Page 1 of 2" in first.content.decode()
    assert titles(client.get(MY, {"page": 2})) == [f"D-{n:03d}" for n in range(50, 60)]
    # A sort or a page link without `state` still lists the open ones only.
    assert "Closed-0" not in titles(client.get(MY, {"sort": "title", "page": 2}))


def test_my_deadlines_sort_filter_and_search(client, many, trial):
    client.force_login(many)
    assert titles(client.get(MY, {"sort": "-due"}))[:2] == ["D-059", "D-058"]
    assert titles(client.get(MY, {"sort": "-title"}))[0] == "D-059"
    reports = titles(client.get(MY, {"kind": "visit_report"}))
    assert reports == [f"D-{n:03d}" for n in range(0, 60, 3)]
    assert titles(client.get(MY, {"state": "done"})) == ["Closed-0", "Closed-1", "Closed-2"]
    every = client.get(MY, {"state": "", "page": 2})
    assert "Page 2 of 2 · 63 rows" in every.content.decode()
    assert titles(client.get(MY, {"q": "d-04"})) == [f"D-{n:03d}" for n in range(40, 50)]
    assert len(titles(client.get(MY, {"trial": trial.pk}))) == 50
    refused = client.get(MY, {"trial": TrialFactory().pk})  # a trial the CRA does not see
    assert refused.status_code == 200
    assert titles(refused) == []
    assert "Select a valid choice" in refused.content.decode()


def test_old_filter_links_keep_working(client, many):
    client.force_login(many)
    text = client.get(MY, {"kind": "task", "state": "open"}).content.decode()
    assert "D-001" in text
    assert "D-000" not in text


def test_htmx_gets_only_the_deadline_table(client, many):
    client.force_login(many)
    response = client.get(MY, {"page": 2}, headers={"HX-Request": "true",
                                                     "HX-Target": "list-deadlines"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="list-deadlines"' in html
    assert titles(response)[0] == "D-050"
    assert 'name="csrfmiddlewaretoken"' in html  # the row actions still post


def test_my_deadlines_export_every_selected_row_csv_and_xlsx(client, many):
    client.force_login(many)
    header, *rows = csv_rows(client.get(MY, {"state": "", "sort": "-due", "page": 2,
                                             "export": "csv"}))
    want = expected_titles(many)
    assert len(rows) == len(want) == 63
    assert [r[header.index("Deadline")] for r in rows] == want
    assert header[0].startswith("Due (")
    assert "" not in header
    first = rows[0]
    assert first[header.index("Kind")] == "Task"
    assert first[header.index("State")] == "Open"
    assert first[header.index("Overdue")] == "No"
    assert rows[-1][header.index("Overdue")] == "Yes"
    head, *sheet = xlsx_rows(client.get(MY, {"kind": "task", "sort": "-due",
                                             "export": "xlsx"}))
    tasks = expected_titles(many, kind="task", state="open")
    assert len(sheet) == len(tasks) == 40
    assert [r[head.index("Deadline")] for r in sheet] == tasks
    due = sheet[0][head.index("Due (UTC)")]
    assert isinstance(due, datetime)
    latest = Deadline.objects.get(title=tasks[0]).due_at
    assert abs(due - latest.replace(tzinfo=None)) < timedelta(minutes=1)
    assert sheet[0][head.index("Kind")] == "Task"


def test_my_deadlines_keep_to_the_readers_own_and_escalations(client, many, crm):
    client.force_login(many)
    _, *rows = csv_rows(client.get(MY, {"state": "", "export": "csv"}))
    assert "D-999 not mine" not in {r[2] for r in rows}
    client.force_login(crm)  # the CRM set them: each escalates to the CRM
    page = client.get(MY).content.decode()
    assert "escalated to you" in page
    assert "D-000" in page


def test_done_from_the_list_keeps_the_lists_state(client, many):
    client.force_login(many)
    page = client.get(MY, {"kind": "task", "page": 1}).content.decode()
    deadline = Deadline.objects.get(title="D-001")
    assert f'action="/deadlines/{deadline.pk}/done/"' in page
    response = client.post(f"/deadlines/{deadline.pk}/done/",
                           {"next": "/deadlines/?kind=task&page=1"})
    assert response.status_code == 302
    assert response.url == "/deadlines/?kind=task&page=1"
    assert Deadline.objects.get(pk=deadline.pk).state == "done"


# --------------------------------------------------------------------------- trial deadlines

def test_trial_deadlines_list_filters_by_owner_and_reassigns(client, many, trial, crm):
    url = f"/trials/{trial.pk}/deadlines/"
    client.force_login(crm)
    mine = deadline_create_manual(by=crm, kind="task", trial=trial, title="D-777",
                                  due_at=timezone.now() + timedelta(days=90))
    page = client.get(url)
    assert len(titles(page)) == 50
    assert "Page 1 of 2" in page.content.decode()
    assert titles(client.get(url, {"owner": crm.pk})) == ["D-777"]
    assert len(titles(client.get(url, {"owner": many.pk, "page": 2}))) == 10
    header, *rows = csv_rows(client.get(url, {"export": "csv", "sort": "-due"}))
    assert len(rows) == 61
    assert rows[0][header.index("Owner")] == crm.full_name
    assert rows[1][header.index("Owner")] == many.full_name
    assert f'action="/deadlines/{mine.pk}/reassign/"' in client.get(
        url, {"owner": crm.pk}).content.decode()
    response = client.post(f"/deadlines/{mine.pk}/reassign/",
                           {"owner": many.pk, "next": f"{url}?owner={crm.pk}"})
    assert response.status_code == 302
    assert response.url == f"{url}?owner={crm.pk}"
    assert Deadline.objects.get(pk=mine.pk).owner == many
    _, *sheet = xlsx_rows(client.get(url, {"owner": many.pk, "export": "xlsx"}))
    assert len(sheet) == 61


def test_trial_deadlines_list_the_team_once_a_page_not_once_a_row(client, many, trial, crm):
    client.force_login(crm)
    html = client.get(f"/trials/{trial.pk}/deadlines/").content.decode()
    # 50 rows; the CRA is an option of the owner filter and of the one reassign select
    assert html.count(f'<option value="{many.pk}"') == 2
    assert html.count('form="reassign" formaction="/deadlines/') == 50
    assert html.count('id="reassign"') == 1


def test_trial_deadlines_are_for_its_crm_only(client, many, trial):
    url = f"/trials/{trial.pk}/deadlines/"
    client.force_login(many)  # the CRA
    assert client.get(url).status_code == 403
    assert client.get(url, {"export": "csv"}).status_code == 403
    client.force_login(crm_of(TrialFactory()))
    assert client.get(url, {"export": "xlsx"}).status_code == 404


# ------------------------------------------------------------------------------ notifications

@pytest.fixture
def notes(cra, crm):
    for n in range(55):
        note = Notification.objects.create(user=cra, kind="task", message=f"Note {n:03d}",
                                           url="/deadlines/")
        Notification.objects.filter(pk=note.pk).update(
            created_at=timezone.now() - timedelta(hours=n),
            read_at=timezone.now() if n % 5 == 0 else None)
    Notification.objects.create(user=crm, kind="task", message="Note 999 of the CRM")
    return cra


def messages_of(response) -> list[str]:
    body = response.content.decode().split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"Note \d{3}", body)


def test_notifications_page_filter_search_and_read_actions(client, notes):
    client.force_login(notes)
    first = client.get(NOTES)
    assert messages_of(first) == [f"Note {n:03d}" for n in range(50)]
    assert messages_of(client.get(NOTES, {"page": 2})) == [f"Note {n:03d}" for n in
                                                          range(50, 55)]
    unread = messages_of(client.get(NOTES, {"unread": "true"}))
    assert len(unread) == 44
    assert "Note 000" not in unread
    assert messages_of(client.get(NOTES, {"unread": "false"}))[:2] == ["Note 000", "Note 005"]
    assert messages_of(client.get(NOTES, {"q": "note 014"})) == ["Note 014"]
    assert messages_of(client.get(NOTES, {"sort": "created_at"}))[0] == "Note 054"
    note = Notification.objects.get(message="Note 001")
    assert f'action="/notifications/{note.pk}/read/"' in first.content.decode()
    response = client.post(f"/notifications/{note.pk}/read/",
                           {"next": "/notifications/?unread=true"})
    assert response.url == "/notifications/?unread=true"
    assert "Note 001" not in messages_of(client.get(NOTES, {"unread": "true"}))


def test_notification_exports_hold_the_filtered_rows(client, notes):
    client.force_login(notes)
    header, *rows = csv_rows(client.get(NOTES, {"export": "csv"}))
    assert header == ["When (UTC)", "Message", "Read (UTC)"]  # no action column
    assert [r[1] for r in rows] == [f"Note {n:03d}" for n in range(55)]
    _head, *sheet = xlsx_rows(client.get(NOTES, {"unread": "true", "export": "xlsx"}))
    want = list(Notification.objects.filter(user=notes, read_at__isnull=True)
                .order_by("-created_at").values_list("message", flat=True))
    assert [r[1] for r in sheet] == want
    assert len(want) == 44
    assert isinstance(sheet[0][0], datetime)


# ---------------------------------------------------------------------------- bounded queries

def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_deadline_and_notification_lists_run_the_same_queries_for_few_or_many(
        client, trial, crm, cra):
    url = f"/trials/{trial.pk}/deadlines/"
    deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra, title="D-500",
                           due_at=timezone.now())
    Notification.objects.create(user=cra, kind="task", message="Note 500")
    client.force_login(cra)
    few = [_queries(client, MY, {"state": "", "sort": "-due"}),
           _queries(client, NOTES, {"unread": "true"})]
    client.force_login(crm)
    few.append(_queries(client, url, {"sort": "owner"}))
    for n in range(30):
        deadline_create_manual(by=crm, kind="task", trial=trial, owner=cra, title=f"D-{n:03d}",
                               due_at=timezone.now() - timedelta(days=n))
        Notification.objects.create(user=cra, kind="task", message=f"Note {n:03d}")
    client.force_login(cra)
    many = [_queries(client, MY, {"state": "", "sort": "-due"}),
            _queries(client, NOTES, {"unread": "true"})]
    client.force_login(crm)
    many.append(_queries(client, url, {"sort": "owner"}))
    assert many == few


def test_trial_deadlines_owner_filter_offers_exactly_the_trials_owners(client, many, trial, crm):
    """The owner choices come from a skip scan of (trial, owner): each owner once, owners of
    other trials' deadlines not at all, people without a deadline here not at all."""
    helper = UserFactory(first_name="Ann", last_name="Helper")
    deadline_create_manual(by=crm, kind="task", trial=trial, owner=crm, title="D-800",
                           due_at=timezone.now())
    deadline_create_manual(by=crm, kind="task", trial=trial, owner=crm, title="D-801",
                           due_at=timezone.now())
    expected = set(Deadline.objects.filter(trial=trial).values_list("owner_id", flat=True))
    assert sorted(deadline_owner_ids_of_trial(trial_id=trial.pk)) == sorted(expected)
    assert expected == {many.pk, crm.pk}
    client.force_login(crm)
    form = client.get(f"/trials/{trial.pk}/deadlines/").context["filter"].form
    offered = {int(value.value) for value, _ in form.fields["owner"].choices if value}
    assert offered == expected
    assert helper.pk not in offered


def test_trial_deadlines_count_reads_the_deadlines_alone(client, many, trial, crm):
    """The page's COUNT joins nothing: whether an owner is an administrator is a subquery of
    the rows shown, not a join the count would also pay for."""
    client.force_login(crm)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/trials/{trial.pk}/deadlines/").status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries
              if "COUNT(" in q["sql"] and "reminders_deadline" in q["sql"]]
    assert counts
    assert all("JOIN" not in sql for sql in counts)
