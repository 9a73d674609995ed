from django.urls import reverse

from tests.conftest import PASSWORD, api_as


def test_a_token_is_issued_for_good_credentials_and_works(world, api):
    response = api.post("/api/v1/auth/token/", {"username": "crm_a", "password": PASSWORD},
                        format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "crm_a"


def test_bad_credentials_are_a_400_with_a_message(world, api):
    response = api.post("/api/v1/auth/token/", {"username": "crm_a", "password": "wrong"},
                        format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]
    response = api.post("/api/v1/auth/token/", {"username": "crm_a"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_me_lists_the_callers_current_roles(world):
    body = api_as(world.cra).get("/api/v1/me/").json()
    assert body["full_name"] == world.cra.full_name
    assert body["roles"] == [{"trial": world.trial_a.pk, "site": world.site_a1.pk, "role": "CRA"}]


def test_anonymous_api_calls_are_401(api):
    assert api.get("/api/v1/me/").status_code == 401
    assert api.get("/api/v1/trials/").status_code == 401


def test_repeated_failed_logins_lock_the_account(world, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    url = reverse("login")
    for _ in range(2):
        response = client.post(url, {"username": "crm_a", "password": "wrong"})
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    response = client.post(url, {"username": "crm_a", "password": "wrong"})
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    # Even the right password is refused while the account is locked.
    response = client.post(url, {"username": "crm_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_good_login_lands_on_the_home_page(world, client):
    response = client.post(reverse("login"), {"username": "crm_a", "password": PASSWORD},
                           follow=True)
    assert response.status_code == 200
    assert "My trials — portfolio" in response.content.decode()


def test_the_token_endpoint_is_rate_limited(world, api, settings):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"]
    limit = int(rate.split("/")[0])
    statuses = [
        api.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"},
                 format="json").status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [400] * limit
    assert statuses[-1] == 429


def test_logout_ends_the_callers_token(world, api):
    response = api.post("/api/v1/auth/token/", {"username": "crm_a", "password": PASSWORD},
                        format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert api.post("/api/v1/auth/logout/").status_code == 204
    assert api.get("/api/v1/me/").status_code == 401
    api.credentials()
    assert api.post("/api/v1/auth/logout/").status_code == 401
