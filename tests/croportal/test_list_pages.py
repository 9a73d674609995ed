"""The one list mechanism (croportal.lists), on the trials list and a trial's sites list:
pages of 50, sort by column with stable ties, filters and search in the URL, htmx swapping the
table alone, invalid filters selecting nothing, the reader's scope, bounded queries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sites.models import Site
from tests.factories import AdminFactory, SiteFactory, TrialFactory, cra_of, crm_of
from trials.models import Trial

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_trial(db):
    """A trial with 63 sites (more than a page), activated on distinct days."""
    trial = TrialFactory(protocol_number="BIG-1")
    admin = AdminFactory()
    for n in range(63):
        SiteFactory(trial=trial, by=admin, number=f"{n + 1:03d}", institution=f"Hospital {n}",
                    country="FR" if n % 3 == 0 else "DE")
    start = date(2026, 1, 1)
    for n, site in enumerate(Site.objects.filter(trial=trial).order_by("number")):
        Site.objects.filter(pk=site.pk).update(activated_on=start + timedelta(days=n))
    return trial


def rows_of(response) -> list[str]:
    """The numbers of the site rows on the page, in order."""
    html = response.content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [cell.split("</a>", 1)[0].rsplit(">", 1)[1]
            for cell in body.split("<tr")[1:] if "</a>" in cell]


def test_a_long_list_shows_fifty_rows_a_page_and_clamps_odd_pages(client, big_trial):
    client.force_login(crm_of(big_trial))
    url = f"/trials/{big_trial.pk}/sites/"
    first = client.get(url)
    assert first.status_code == 200
    assert rows_of(first) == [f"{n:03d}" for n in range(1, 51)]
    assert "Page 1 of 2" in first.content.decode()
    assert rows_of(client.get(url, {"page": 2})) == [f"{n:03d}" for n in range(51, 64)]
    assert rows_of(client.get(url, {"page": 999})) == rows_of(client.get(url, {"page": 2}))
    assert rows_of(client.get(url, {"page": "x"})) == rows_of(first)


def test_columns_sort_both_ways_and_an_unknown_sort_is_ignored(client, big_trial):
    client.force_login(crm_of(big_trial))
    url = f"/trials/{big_trial.pk}/sites/"
    down = rows_of(client.get(url, {"sort": "-activated_on"}))
    assert down[:3] == ["063", "062", "061"]
    assert rows_of(client.get(url, {"sort": "institution"}))[:2] == ["001", "002"]
    assert rows_of(client.get(url, {"sort": "secret_field"})) == rows_of(client.get(url))


def test_ties_are_broken_by_the_primary_key_so_pages_never_overlap(client, big_trial):
    client.force_login(crm_of(big_trial))
    url = f"/trials/{big_trial.pk}/sites/"
    pages = [rows_of(client.get(url, {"sort": "country", "page": p})) for p in (1, 2)]
    assert len(set(pages[0]) | set(pages[1])) == 63


def test_filters_and_search_select_rows_and_live_in_the_url(client, big_trial):
    client.force_login(crm_of(big_trial))
    url = f"/trials/{big_trial.pk}/sites/"
    french = rows_of(client.get(url, {"country": "fr"}))
    assert len(french) == 21
    assert french[0] == "001"
    # Every word must match some searched field: "62" is in site 062's number and 063's name.
    assert rows_of(client.get(url, {"q": "Hospital 62"})) == ["062", "063"]
    assert rows_of(client.get(url, {"q": "hospital 12 fr"})) == []
    ranged = rows_of(client.get(url, {"activated_on_after": "2026-01-05",
                                      "activated_on_before": "2026-01-07"}))
    assert ranged == ["005", "006", "007"]


def test_an_invalid_filter_selects_nothing_and_says_why(client, big_trial):
    client.force_login(crm_of(big_trial))
    response = client.get(f"/trials/{big_trial.pk}/sites/", {"status": "nonsense"})
    assert response.status_code == 200
    assert rows_of(response) == []
    assert "Select a valid choice" in response.content.decode()


def test_htmx_gets_only_the_table_back(client, big_trial):
    client.force_login(crm_of(big_trial))
    response = client.get(f"/trials/{big_trial.pk}/sites/", {"page": 2},
                          headers={"HX-Request": "true", "HX-Target": "list-sites"})
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="list-sites"' in html
    assert rows_of(response)[0] == "051"


def test_a_cra_lists_only_their_own_site_and_an_outsider_gets_404(client, big_trial):
    site = Site.objects.get(trial=big_trial, number="007")
    client.force_login(cra_of(site))
    assert rows_of(client.get(f"/trials/{big_trial.pk}/sites/")) == ["007"]
    other = TrialFactory()
    client.force_login(crm_of(other))
    assert client.get(f"/trials/{big_trial.pk}/sites/").status_code == 404
    assert client.get(f"/trials/{big_trial.pk}/sites/", {"export": "csv"}).status_code == 404


def test_the_trials_list_pages_sorts_and_searches_what_the_reader_sees(client):
    admin = AdminFactory()
    for n in range(55):
        TrialFactory(by=admin, protocol_number=f"P-{n:03d}")
    crm = crm_of(Trial.objects.get(protocol_number="P-054"))
    client.force_login(admin)
    assert "Page 1 of 2" in client.get("/trials/").content.decode()
    top = client.get("/trials/", {"sort": "-protocol_number"}).content.decode()
    assert top.index("P-054") < top.index("P-053")
    assert "P-017" in client.get("/trials/", {"q": "p-017"}).content.decode()
    client.force_login(crm)
    mine = client.get("/trials/").content.decode()
    assert "P-054" in mine
    assert "P-053" not in mine


def test_the_trial_page_shows_the_first_sites_and_links_to_all_of_them(client, big_trial):
    client.force_login(crm_of(big_trial))
    html = client.get(f"/trials/{big_trial.pk}/").content.decode()
    table = html.split('id="site-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 1 + 10  # header and ten sites
    assert "All 63 sites" in html
    assert f"/trials/{big_trial.pk}/sites/" in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_run_the_same_queries_for_few_or_many_rows(client):
    admin = AdminFactory()
    small, large = TrialFactory(by=admin), TrialFactory(by=admin)
    SiteFactory(trial=small, by=admin)
    for _n in range(40):
        SiteFactory(trial=large, by=admin)
        TrialFactory(by=admin)
    client.force_login(admin)
    assert (_queries(client, f"/trials/{small.pk}/sites/")
            == _queries(client, f"/trials/{large.pk}/sites/"))
    assert _queries(client, "/trials/?page=1") == _queries(client, "/trials/?q=T-")
