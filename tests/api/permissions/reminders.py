"""Permission matrix of reminders: deadlines (pages and API), notifications and the bell,
notification preferences and the calendar feed. Columns and rules:
tests/api/permissions/matrix.py."""

from collections.abc import Callable

from tests.api.permissions.matrix import Route, api, page, row, some_fields


def new_task_form(w, target) -> dict:
    return {"kind": "task", "title": "Call the pharmacist", "trial": w.trial_a.pk, "owner": "",
            "due": "2026-12-01T09:00"}


def preferences_form(w, target) -> dict:
    return {"email_enabled": "on", "daily_digest": "on", "muted_kinds": ["milestone"]}


def reassign_to(owner_attr: str) -> Callable[..., dict]:
    def body(w, target) -> dict:
        return {"owner": getattr(w, owner_attr).pk}
    return body


def new_deadline(owner_attr: str | None, kind: str = "task") -> Callable[..., dict]:
    def body(w, target) -> dict:
        data = {"kind": kind, "title": "Send the visit confirmation letter",
                "trial": w.trial_a.pk, "due_at": "2026-12-01T09:00:00+01:00"}
        if owner_attr:
            data["owner"] = getattr(w, owner_attr).pk
        return data
    return body


# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    # ---- pages ---------------------------------------------------------------------------
    "reminders:my_deadlines": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="kind=task&state=&trial=999999", note="filters"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="export=csv", note="export: one's own deadlines"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="state=done&sort=-due&export=xlsx", note="export"),
    ),
    # A big list export's pages are its owner's alone (here the CRM's job, not yet written).
    "reminders:export_job": page(
        row("GET", "export_crm",                         "404  200  404  404  404  404  L"),
    ),
    "reminders:export_job_bar": page(
        row("GET", "export_crm",                         "404  200  404  404  404  404  L"),
    ),
    "reminders:export_job_file": page(
        row("GET", "export_crm",                         "404  404  404  404  404  404  L",
            note="no file until the job is done"),
    ),
    "reminders:deadline_new": page(
        row("GET", None,                                 "200  200  200  200  403  403  L"),
        row("POST", None, new_task_form,                 "302  302  302  302  403  403  L"),
    ),
    "reminders:deadline_done": page(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  L"),
        row("POST", "deadline_a",                        "302  302  302  404  404  404  L"),
        row("POST", "deadline_b",                        "302  404  404  404  404  404  L"),
    ),
    "reminders:deadline_reassign": page(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  L"),
        row("POST", "deadline_a", reassign_to("monitor"), "302  302  403  404  404  404  L"),
        row("POST", "deadline_b", reassign_to("crm_b"),  "302  404  404  404  404  404  L"),
    ),
    "reminders:trial_deadlines": page(
        row("GET", "trial_a",                            "200  200  403  403  403  404  L"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L"),
        row("GET", "trial_a",                            "200  200  403  403  403  404  L",
            query="export=csv", note="export"),
        row("GET", "trial_b",                            "200  404  404  404  404  403  L",
            query="export=xlsx", note="export"),
    ),
    "reminders:notifications": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="unread=true&q=x", note="filters"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="export=csv", note="export: one's own notifications"),
        row("GET", None,                                 "200  200  200  200  200  200  L",
            query="export=xlsx", note="export"),
    ),
    "reminders:bell": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
    ),
    "reminders:notifications_read_all": page(
        row("GET", None,                                 "405  405  405  405  405  405  L"),
        row("POST", None,                                "302  302  302  302  302  302  L"),
    ),
    "reminders:notification_read": page(
        row("POST", "notification_cra",                  "404  404  302  404  404  404  L"),
    ),
    "reminders:preferences": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None, preferences_form,              "302  302  302  302  302  302  L"),
    ),
    "reminders:calendar": page(
        row("GET", None,                                 "200  200  200  200  200  200  L"),
        row("POST", None,                                "200  200  200  200  200  200  L",
            note="a new secret address, shown once"),
    ),
    # The feed's secret is its credential: no login, and any other secret is a 404.
    "reminders:calendar_feed": page(
        row("GET", "/calendar/not-a-real-secret.ics",    "404  404  404  404  404  404  404"),
        row("POST", "/calendar/not-a-real-secret.ics",   "405  405  405  405  405  405  405"),
    ),
    # ---- API -----------------------------------------------------------------------------
    "api:deadline-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("GET", None,                                 "200  200  200  200  200  200  U",
            query="mine=true&state=open&overdue=false&kind=task", note="filters"),
        row("POST", None, new_deadline(None),            "201  201  201  201  403  403  U",
            note="a task for oneself on trial A"),
        row("POST", None, new_deadline("monitor"),       "201  201  400  201  403  403  U",
            note="a task for the medical monitor"),
        row("POST", None, new_deadline(None, "coffee"),  "400  400  400  400  403  403  U",
            note="unknown kind"),
        row("POST", None, new_deadline(None, "training_expiry"),
                                                         "400  400  400  400  403  403  U",
            note="a kind the portal keeps itself"),
    ),
    "api:deadline-detail": api(
        row("GET", "deadline_a",                         "200  200  200  404  404  404  U"),
        row("GET", "deadline_b",                         "200  404  404  404  404  404  U"),
        row("PATCH", "deadline_a", some_fields,          "405  405  405  405  405  405  U"),
        row("DELETE", "deadline_a",                      "405  405  405  405  405  405  U"),
    ),
    "api:deadline-reassign": api(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  U"),
        row("POST", "deadline_a", reassign_to("monitor"), "200  200  403  404  404  404  U"),
        row("POST", "deadline_a", reassign_to("sponsor"), "400  400  403  404  404  404  U",
            note="a sponsor viewer cannot own the CRO's work"),
        row("POST", "deadline_b", reassign_to("crm_b"),  "200  404  404  404  404  404  U"),
    ),
    "api:deadline-done": api(
        row("GET", "deadline_a",                         "405  405  405  405  405  405  U"),
        row("POST", "deadline_a",                        "200  200  200  404  404  404  U"),
        row("POST", "deadline_b",                        "200  404  404  404  404  404  U"),
    ),
    "api:notification-list": api(
        row("GET", None,                                 "200  200  200  200  200  200  U"),
        row("POST", None, some_fields,                   "405  405  405  405  405  405  U"),
    ),
    "api:notification-detail": api(
        row("GET", "notification_cra",                   "404  404  200  404  404  404  U"),
        row("DELETE", "notification_cra",                "405  405  405  405  405  405  U"),
    ),
    "api:notification-read": api(
        row("GET", "notification_cra",                   "405  405  405  405  405  405  U"),
        row("POST", "notification_cra",                  "404  404  200  404  404  404  U"),
    ),
    "api:notification-read-all": api(
        row("POST", None,                                "200  200  200  200  200  200  U"),
    ),
}
# fmt: on
