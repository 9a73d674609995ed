"""Every page names the portal's own icon, served from its static files (no browser 404 for
/favicon.ico on every page, no CDN)."""

from django.contrib.staticfiles import finders
from django.urls import reverse


def test_pages_name_the_portals_favicon_and_it_is_a_static_file(client, db):
    html = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">' in html
    path = finders.find("img/favicon.svg")
    assert path is not None
    with open(path) as icon:
        assert icon.read().startswith("<svg")
