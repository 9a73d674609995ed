"""Browser tests: headless Debian Chromium driven by Playwright against pytest-django's
live_server (STACK.md traps 2 and 3)."""

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import PASSWORD, build_world, need_service

# Playwright's sync API keeps an asyncio loop running in the test thread for the whole session,
# so Django's ORM would refuse to run there (SynchronousOnlyOperation). Set at import, before
# any Playwright fixture starts.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright cannot download its own browser here: use Debian's Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session", autouse=True)
def _chromium_present():
    """Session-scoped, so it is asked before Playwright's session-scoped browser launches."""
    need_service(CHROMIUM.exists(), f"needs Chromium at {CHROMIUM}")


def ensure_ctcae_terms() -> None:
    """A transactional flush empties the CTCAE table a data migration filled; reload it."""
    from django.conf import settings

    from safety.ctcae import read_facts_file
    from safety.models import CtcaeTerm
    from safety.services import ctcae_load

    if CtcaeTerm.objects.count() == 0:
        ctcae_load(rows=read_facts_file(settings.CTCAE_FACTS_FILE))


@pytest.fixture
def live_world(transactional_db, live_server) -> SimpleNamespace:
    """The shared personas, committed so the live server's thread sees them."""
    ensure_ctcae_terms()
    return build_world()


@pytest.fixture
def login(page, live_server):
    """Log in through the real login form; returns the page, now on the home page."""

    def _login(username: str, password: str = PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("load")
        return page

    return _login
