"""Under the Content-Security-Policy the pages still work and the browser reports no violation:
the trial page draws its Chart.js charts, the API docs render Swagger UI, htmx polls the bell."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script, outside the policy: records every violation the page meets.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def watch_for_violations(page) -> list[str]:
    messages: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: messages.append(message.text)
            if "Content Security Policy" in message.text else None)
    return messages


def violations_of(page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__cspViolations"), *console]


def test_the_trial_page_draws_its_charts_without_a_violation(live_world, live_server, login):
    page = login(live_world.crm.username)
    console = watch_for_violations(page)
    with page.expect_response(lambda r: "/notifications/bell/" in r.url):  # htmx runs
        response = page.goto(f"{live_server.url}/trials/{live_world.trial_a.pk}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("canvas#enrollment-chart")).to_have_attribute("data-rendered", "true")
    expect(page.locator("canvas#milestone-chart")).to_have_attribute("data-rendered", "true")
    page.wait_for_load_state("networkidle")
    assert violations_of(page, console) == []


def test_the_api_docs_render_swagger_ui_without_a_violation(live_world, live_server, login):
    page = login(live_world.crm.username)
    console = watch_for_violations(page)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CRO Portal API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()  # the schema loaded
    page.wait_for_load_state("networkidle")
    assert violations_of(page, console) == []


def test_the_log_in_page_has_no_violation(live_server, page):
    console = watch_for_violations(page)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert violations_of(page, console) == []
