"""The trial page draws its enrollment chart with Chart.js served from the npm package."""

import pytest
from playwright.sync_api import expect

# transaction=True also makes pytest-django run these after the rollback-only tests: their
# flush empties tables (the CTCAE dictionary) that a data migration filled.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_enrollment_chart_renders_without_any_cdn(live_world, live_server, login):
    page = login(live_world.crm.username)
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url)
            if not r.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/trials/{live_world.trial_a.pk}/")
    chart = page.locator("canvas#enrollment-chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    assert page.evaluate("typeof Chart") == "function"
    assert external == []
