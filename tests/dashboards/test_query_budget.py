"""Issue 13's budget of at most 15 queries, page by page, for each role's pages and lists
(the bench measures the same pages at a CRO's scale; the counts do not depend on its size:
the bounded-query tests of each list show that)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

BUDGET = 15

pytestmark = pytest.mark.django_db


def pages(world) -> list[tuple[str, str]]:
    trial, site = world.trial_a.pk, world.site_a1.pk
    return [
        ("crm", "/"), ("cra", "/"), ("monitor", "/"), ("sponsor", "/"), ("admin", "/"),
        ("crm", f"/trials/{trial}/"), ("crm", f"/trials/{trial}/sites/"),
        ("cra", f"/sites/{site}/"), ("cra", f"/sites/{site}/subjects/"),
        ("monitor", "/safety/queue/"), ("monitor", "/safety/obligations/"),
        ("cra", "/deadlines/"), ("crm", f"/trials/{trial}/deadlines/"),
        ("crm", "/staff/workload/"), ("admin", "/staff/workload/"),
        ("crm", f"/audit/site/{site}/"), ("admin", "/trials/"),
        *[(user, f"/api/v1/{name}/") for name in (
            "trials", "sites", "subjects", "adverse-events", "deadlines",
            "reporting-obligations", "essential-documents") for user in ("admin", "crm")],
    ]


def test_every_page_and_list_stays_within_fifteen_queries(world, client):
    over = []
    for username, path in pages(world):
        client.force_login(getattr(world, username))
        client.get(path)  # first load: sessions, caches
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200, (username, path, response.status_code)
        if len(ctx.captured_queries) > BUDGET:
            over.append((username, path, len(ctx.captured_queries)))
    assert over == []
