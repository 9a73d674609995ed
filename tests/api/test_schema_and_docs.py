import re


def test_the_openapi_schema_describes_the_contract(world, client):
    client.force_login(world.crm)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token/", "/api/v1/me/", "/api/v1/trials/", "/api/v1/trials/{id}/",
                 "/api/v1/sites/", "/api/v1/assignments/",
                 "/api/v1/adverse-events/{id}/review/"):
        assert path in schema["paths"], path
    trial = schema["components"]["schemas"]["Trial"]["properties"]
    for field in ("protocol_number", "sponsor_name", "enrolled_count", "active_sites_count",
                  "safety_timezone", "dibd"):
        assert field in trial


def test_the_api_docs_load_nothing_from_a_cdn(world, client):
    client.force_login(world.crm)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []
