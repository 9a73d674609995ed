"""On a phone (375 by 740 CSS pixels) the navigation folds behind a menu button that opens it,
and no main page scrolls sideways: wide tables scroll inside their own box (issue 12)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
PERSONAS = ("crm", "cra", "monitor", "sponsor")
# The safety queue is the medical monitor's; the others get Django's plain refusal (403, no
# navigation), which must fit on a phone as well.
QUEUE_STATUS = {"crm": 403, "cra": 403, "monitor": 200, "sponsor": 403}


@pytest.fixture
def browser_context_args(browser_context_args):
    """A phone-sized window; not `is_mobile`, whose zooming out would hide an overflow."""
    return {**browser_context_args, "viewport": PHONE}


def main_pages(w) -> dict[str, str]:
    return {
        "home": reverse("dashboards:home"),
        "trial list": reverse("trials:list"),
        "trial page": reverse("trials:detail", args=[w.trial_a.pk]),
        "site page": reverse("sites:detail", args=[w.site_a1.pk]),
        "deadlines": reverse("reminders:my_deadlines"),
        "notifications": reverse("reminders:notifications"),
        "safety queue": reverse("safety:queue"),
        "profile": reverse("profile"),
    }


def overflow(page) -> dict:
    return page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")


def assert_menu_opens(page) -> None:
    menu = page.locator("#nav-toggle")
    deadlines = page.locator("#main-nav").get_by_role("link", name="Deadlines")
    expect(menu).to_be_visible()
    expect(deadlines).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(deadlines).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    size = overflow(page)
    assert size["scroll"] <= size["inner"], f"the open menu is wider than the phone: {size}"
    menu.click()
    expect(deadlines).to_be_hidden()


@pytest.mark.parametrize("persona", PERSONAS)
def test_main_pages_fit_a_phone_and_the_menu_opens(live_world, live_server, login, persona):
    page = login(getattr(live_world, persona).username)
    assert page.viewport_size == PHONE
    for name, path in main_pages(live_world).items():
        response = page.goto(f"{live_server.url}{path}")
        expected = QUEUE_STATUS[persona] if name == "safety queue" else 200
        assert response.status == expected, f"{persona}: {name} answered {response.status}"
        page.wait_for_load_state("load")
        size = overflow(page)
        assert size["scroll"] <= size["inner"], (
            f"{persona}: the {name} ({path}) scrolls sideways on a phone: {size}")
        if expected == 200:
            assert_menu_opens(page)


def test_a_wide_table_scrolls_inside_its_box_not_the_page(live_world, live_server, login):
    page = login(live_world.monitor.username)
    page.goto(f"{live_server.url}{reverse('safety:queue')}")
    wrap = page.locator(".table-wrap", has=page.locator("#queue-obligation-table"))
    sizes = wrap.evaluate("box => ({scroll: box.scrollWidth, client: box.clientWidth})")
    assert sizes["scroll"] > sizes["client"]  # the table is wider than the phone…
    size = overflow(page)
    assert size["scroll"] <= size["inner"]  # …and only its box scrolls


def test_the_full_navigation_shows_on_a_desktop(live_world, live_server, login, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    login(live_world.crm.username)
    expect(page.locator("#nav-toggle")).to_be_hidden()
    expect(page.locator("#main-nav").get_by_role("link", name="Deadlines")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
