"""Every API list refuses a query parameter it does not know (a 400 naming it: a misspelt
filter must never return every row) and sorts by `?ordering=` (API.md conventions)."""

import pytest
from django.urls import reverse

from croportal.api_urls import router
from tests.conftest import api_as

LISTS = sorted(f"api:{basename}-list" for _, _, basename in router.registry)


@pytest.mark.parametrize("route", LISTS)
def test_an_unknown_query_parameter_is_a_400_naming_it(world, route):
    response = api_as(world.admin).get(reverse(route), {"sponsr": "1"})
    assert response.status_code == 400, (route, response.status_code)
    assert "sponsr" in response.json()
    assert "Unknown query parameter" in response.json()["sponsr"][0]


@pytest.mark.parametrize("route", LISTS)
def test_lists_sort_by_id_both_ways_and_refuse_an_unknown_field(world, route):
    client = api_as(world.admin)
    up = client.get(reverse(route), {"ordering": "id", "page_size": 200})
    down = client.get(reverse(route), {"ordering": "-id", "page_size": 200})
    assert (up.status_code, down.status_code) == (200, 200), route
    ids = [row["id"] for row in up.json()["results"]]
    downward = [row["id"] for row in down.json()["results"]]
    assert ids == sorted(ids)
    assert downward == sorted(downward, reverse=True)
    if up.json()["count"] <= 200:  # one page holds them all: the same rows, reversed
        assert downward == ids[::-1]
    wrong = client.get(reverse(route), {"ordering": "no_such_field"})
    assert wrong.status_code == 400
    assert "ordering" in wrong.json()


def test_sorting_by_a_field_with_the_id_breaking_ties(world):
    client = api_as(world.admin)
    rows = client.get("/api/v1/sites/", {"ordering": "-country,number"}).json()["results"]
    keys = [(row["country"], row["number"]) for row in rows]
    by_number = sorted(keys, key=lambda key: key[1])
    assert keys == sorted(by_number, key=lambda key: key[0], reverse=True)  # stable sorts
    assert len(rows) >= 3


def test_known_filters_and_paging_still_work(world):
    client = api_as(world.admin)
    body = client.get("/api/v1/sites/", {"trial": world.trial_a.pk, "page": 1,
                                         "page_size": 1}).json()
    assert body["count"] == 2
    assert client.get("/api/v1/ctcae-terms/", {"search": "neutro"}).status_code == 200
    assert client.get("/api/v1/deadlines/", {"mine": "true"}).status_code == 200


def test_identifying_fields_and_date_ranges_filter_the_lists(world):
    client = api_as(world.admin)
    trials = client.get("/api/v1/trials/", {"protocol_number": world.trial_a.protocol_number})
    assert [t["id"] for t in trials.json()["results"]] == [world.trial_a.pk]
    sites = client.get("/api/v1/sites/", {"trial": world.trial_a.pk,
                                          "number": world.site_a1.number}).json()["results"]
    assert [s["id"] for s in sites] == [world.site_a1.pk]
    subjects = client.get("/api/v1/subjects/", {"number": world.subject_b1.number})
    assert [s["id"] for s in subjects.json()["results"]] == [world.subject_b1.pk]
    enrolled = world.subject_b1.enrolled_on
    window = {"enrolled_on_after": enrolled.isoformat(), "enrolled_on_before": enrolled.isoformat()}
    ids = {s["id"] for s in client.get("/api/v1/subjects/", window).json()["results"]}
    assert world.subject_b1.pk in ids
    assert world.subject_a2.pk not in ids  # never enrolled
    onset = world.ae_a1.onset_date.isoformat()
    events = client.get("/api/v1/adverse-events/", {"onset_date_before": "2000-01-01"})
    assert events.json()["count"] == 0
    assert client.get("/api/v1/adverse-events/", {"onset_date_after": onset}).json()["count"] == 3
    assert client.get("/api/v1/subjects/", {"enrolled_on_after": "not a date"}).status_code == 400


@pytest.mark.parametrize(("url", "parameter"), [
    ("/api/v1/sites/", "activated_on"), ("/api/v1/subjects/", "screened_on"),
    ("/api/v1/subjects/", "enrolled_on"), ("/api/v1/adverse-events/", "onset_date"),
    ("/api/v1/reporting-obligations/", "due_on"),
])
@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "2026-02-30", "20260101\x00"])
def test_extreme_or_bad_dates_in_a_range_never_fail_the_server(world, url, parameter, value):
    client = api_as(world.admin)
    for suffix in ("after", "before"):
        response = client.get(url, {f"{parameter}_{suffix}": value})
        assert response.status_code in (200, 400), (url, parameter, value, response.status_code)
