"""Every response carries the Content-Security-Policy, and no template or rendered page has an
inline script, inline event handler or inline style that the policy would block."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# A <script> without src (data blocks from json_script are type="application/json").
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
                           re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)
POLICY = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
    "img-src": "'self' data:", "connect-src": "'self'", "frame-ancestors": "'none'",
    "form-action": "'self'", "base-uri": "'self'", "object-src": "'none'",
}


def policy_of(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in directives}


def pages(w) -> list[str]:
    return [
        "/", "/trials/", f"/trials/{w.trial_a.pk}/", f"/trials/{w.trial_a.pk}/edit/",
        "/trials/new/", f"/sites/{w.site_a1.pk}/", f"/sites/{w.site_a1.pk}/edit/",
        f"/safety/adverse-events/{w.ae_a1.pk}/", "/safety/ctcae/?q=neutropenia",
        "/deadlines/", "/deadlines/new/", f"/trials/{w.trial_a.pk}/deadlines/",
        "/notifications/", "/notifications/preferences/", "/calendar/", "/staff/training/",
        "/staff/workload/", f"/staff/trials/{w.trial_a.pk}/", "/trials/import/",
        f"/audit/trial/{w.trial_a.pk}/", "/accounts/password/", "/api/docs/",
    ]


def test_templates_have_no_inline_script_handler_or_style():
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE, JAVASCRIPT_URL):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}"
                          for m in pattern.finditer(text)]
    assert offenders == []


def test_every_page_carries_the_policy_and_renders_nothing_inline(world, client):
    client.force_login(world.admin)  # a superuser reaches every page
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert policy_of(response) == POLICY, url
        html = response.content.decode()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE, JAVASCRIPT_URL):
            assert not pattern.search(html), (url, pattern.search(html))


def test_the_policy_allows_no_inline_code_at_all(db, client):
    policy = policy_of(client.get("/accounts/login/"))
    assert "'unsafe-inline'" not in " ".join(policy.values())
    assert "'unsafe-eval'" not in " ".join(policy.values())
    assert "nonce-" not in " ".join(policy.values())


def test_anonymous_pages_api_admin_and_errors_carry_the_policy_too(admin, client, api):
    client.force_login(admin)
    for url in ("/admin/", "/api/v1/trials/", "/api/schema/", "/no-such-page/"):
        assert policy_of(client.get(url)) == POLICY, url
    assert policy_of(api.get("/api/v1/trials/")) == POLICY  # 401/403 without credentials
    client.logout()
    for url in ("/accounts/login/", "/healthz/", "/trials/"):
        assert policy_of(client.get(url)) == POLICY, url


def test_the_api_docs_load_their_start_up_script_as_a_separate_file(crm, client):
    client.force_login(crm)
    html = client.get("/api/docs/").content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert "/api/docs/?script=" in sources
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
