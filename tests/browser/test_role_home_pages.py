"""Each role logs in through the real login form and sees its own home-page section only."""

import re

import pytest
from playwright.sync_api import expect

# transaction=True also makes pytest-django run these after the rollback-only tests: their
# flush empties tables (the CTCAE dictionary) that a data migration filled.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECTIONS = {
    "crm": ("home-crm", "My trials — portfolio"),
    "cra": ("home-cra", "My sites"),
    "monitor": ("home-monitor", "Medical review queue"),
    "sponsor": ("home-sponsor", "Sponsor dashboard"),
}


@pytest.mark.parametrize("persona", list(SECTIONS))
def test_each_role_sees_only_its_own_home_section(live_world, live_server, login, persona):
    page = login(getattr(live_world, persona).username)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    section_id, heading = SECTIONS[persona]
    section = page.locator(f"section#{section_id}")
    expect(section).to_be_visible()
    expect(section.get_by_role("heading", name=heading)).to_be_visible()
    for other, (other_id, other_heading) in SECTIONS.items():
        if other == persona:
            continue
        expect(page.locator(f"section#{other_id}")).to_have_count(0)
        expect(page.get_by_role("heading", name=other_heading)).to_have_count(0)


def test_sponsor_sees_own_trial_but_never_the_other_sponsors(live_world, login, tmp_path):
    page = login(live_world.sponsor.username)

    dashboard = page.locator("section#home-sponsor")
    expect(dashboard).to_contain_text("A-001")
    expect(page.locator("body")).not_to_contain_text("B-001")
    expect(page.get_by_text("Medical review queue")).to_have_count(0)
    page.screenshot(path=tmp_path / "sponsor-home.png", full_page=True)


def test_outsider_sees_only_their_own_sponsors_trial(live_world, login):
    page = login(live_world.outsider.username)

    expect(page.locator("section#home-sponsor")).to_contain_text("B-001")
    expect(page.locator("body")).not_to_contain_text("A-001")


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(live_world, live_server, login):
    page = login(live_world.crm.username, "not-the-right-password")

    expect(page.get_by_role("alert")).to_contain_text("did not match")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("input[name=password]")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    for section_id, _heading in SECTIONS.values():
        expect(page.locator(f"section#{section_id}")).to_have_count(0)


def test_pages_are_styled_by_pico(live_world, live_server, login):
    """Every stylesheet the page links is served, and Pico's variables reach the page."""
    page = login(live_world.crm.username)

    hrefs = page.locator("link[rel=stylesheet]").evaluate_all("links => links.map(l => l.href)")
    assert any(href.endswith("/vendor/pico/pico.min.css") for href in hrefs), hrefs
    for href in hrefs:
        response = page.request.get(href)
        assert response.status == 200, href
        assert response.headers["content-type"].startswith("text/css"), href
    font = page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--pico-font-family')"
    )
    assert font.strip(), "Pico CSS variables are not applied"
