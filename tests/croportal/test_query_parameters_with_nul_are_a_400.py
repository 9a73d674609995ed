"""A NUL character (or a lone surrogate) in a query parameter is a clear 400, JSON under /api/
and a plain page elsewhere; on PostgreSQL the CTCAE search used to fail with a 500."""

from django.http import HttpResponse, QueryDict
from django.test import Client, RequestFactory

from croportal.middleware import RefuseUnstorableQueryMiddleware
from tests.conftest import api_as


def test_the_ctcae_search_api_refuses_nul_with_a_json_400(crm):
    response = api_as(crm).get("/api/v1/ctcae-terms/", {"search": "neutro\x00"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "“search”" in response.json()["detail"]
    assert "NUL characters" in response.json()["detail"]


def test_the_ctcae_search_page_refuses_nul_with_a_plain_400(crm):
    client = Client()
    client.force_login(crm)
    response = client.get("/safety/ctcae/", {"q": "neutro\x00"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "The query parameter “q” is refused" in response.content.decode()


def test_a_nul_in_a_parameter_name_is_refused_too(crm):
    response = api_as(crm).get("/api/v1/trials/?sta\x00tus=planning")
    assert response.status_code == 400
    assert "sta\\u0000tus" in response.json()["detail"]


def test_the_search_still_finds_terms(crm):
    response = api_as(crm).get("/api/v1/ctcae-terms/", {"search": "neutropenia"})
    assert response.status_code == 200
    assert "Febrile neutropenia" in {row["term"] for row in response.json()["results"]}
    client = Client()
    client.force_login(crm)
    assert "Febrile neutropenia" in client.get("/safety/ctcae/", {"q": "febrile"}).content.decode()


def test_a_lone_surrogate_in_a_parameter_is_refused():
    """Django decodes a query string with replacement characters, so a surrogate only arrives
    from a WSGI server or code that builds the QueryDict itself: the middleware refuses it."""
    request = RequestFactory().get("/api/v1/ctcae-terms/")
    request.GET = QueryDict(mutable=True)
    request.GET["search"] = "a\ud800"
    middleware = RefuseUnstorableQueryMiddleware(lambda request: HttpResponse("reached"))
    response = middleware(request)
    assert response.status_code == 400
    assert b"unpaired surrogates" in response.content
