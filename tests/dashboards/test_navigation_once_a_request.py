"""The navigation (roles, unread count) is worked out once a request, though every table of a
page is rendered in a context of its own that runs the context processors again."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import SiteFactory, TrialFactory, cra_of, monitor_of

pytestmark = pytest.mark.django_db


def unread_counts(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return sum(1 for q in ctx.captured_queries
               if "COUNT(" in q["sql"] and "reminders_notification" in q["sql"])


def test_a_page_with_tables_counts_unread_notifications_once(client):
    trial = TrialFactory()
    cra = cra_of(SiteFactory(trial=trial))
    client.force_login(cra)
    assert unread_counts(client, "/deadlines/") == 1  # the page and its table
    client.force_login(monitor_of(trial))
    assert unread_counts(client, "/safety/queue/") == 1  # the page and its two tables
