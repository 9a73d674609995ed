"""Deadline and notification lists, pages and the calendar feed: bounded queries (1 vs 50)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reminders import services
from reminders.models import Notification
from tests.api.test_query_counts import grow
from tests.conftest import api_as


def count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def more_deadlines(world, n: int) -> None:
    """n more deadlines for the CRA (half overdue) across new trials, and n notifications."""
    grow(world, 3)
    now = timezone.now()
    for i in range(n):
        services.deadline_create_manual(
            by=world.crm, kind=["task", "visit_report", "monitoring_visit"][i % 3],
            trial=world.trial_a, site=world.site_a1, owner=world.cra,
            due_at=now + timedelta(days=i - n // 2), title=f"Deadline {i}",
            escalation_user=world.crm)
        Notification.objects.create(user=world.cra, kind="task", message=f"Note {i}",
                                    url="/deadlines/")


@pytest.mark.parametrize("url", ["/api/v1/deadlines/", "/api/v1/deadlines/?mine=true",
                                 "/api/v1/notifications/"])
@pytest.mark.parametrize("persona", ["cra", "crm"])
def test_api_lists_do_not_grow_with_rows(world, url, persona):
    client = api_as(getattr(world, persona))
    small = count(lambda: client.get(url))
    more_deadlines(world, 50)
    large = count(lambda: client.get(url))
    assert large == small


@pytest.mark.parametrize("page", ["reminders:my_deadlines", "reminders:notifications",
                                  "reminders:trial_deadlines", "reminders:bell"])
def test_pages_do_not_grow_with_rows(world, page):
    client = Client()
    user = world.crm if page == "reminders:trial_deadlines" else world.cra
    client.force_login(user)
    args = [world.trial_a.pk] if page == "reminders:trial_deadlines" else []
    small = count(lambda: client.get(reverse(page, args=args)))
    more_deadlines(world, 50)
    large = count(lambda: client.get(reverse(page, args=args)))
    assert large == small


def test_calendar_feed_does_not_grow_with_rows(world):
    secret = services.calendar_feed_regenerate(user=world.cra)
    client = Client()
    small = count(lambda: client.get(f"/calendar/{secret}.ics"))
    more_deadlines(world, 50)
    large = count(lambda: client.get(f"/calendar/{secret}.ics"))
    assert large == small
