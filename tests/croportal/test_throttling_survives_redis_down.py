"""With CACHE_USE_REDIS and Redis down, the cache (the token endpoint's throttle) falls back to
this process's memory: the rate limit still holds, nothing answers 500, and it is logged once."""

import logging

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from croportal import cache_fallback
from tests.croportal.test_settings import run_django

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:6390/0"  # nothing listens there


def fallback_cache(location: str) -> dict:
    return {"default": {"BACKEND": "croportal.cache_fallback.FallbackRedisCache",
                        "LOCATION": location,
                        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


@pytest.fixture
def fresh_fallback():
    def reset():
        cache_fallback._down_until = 0.0
        cache_fallback.FALLBACK.clear()
    reset()
    yield
    reset()


@pytest.fixture
def redis_down(settings, fresh_fallback):
    settings.CACHES = fallback_cache(CLOSED_PORT)  # Django rebuilds its cache handlers


def test_the_token_endpoint_still_throttles_and_never_500s(api, redis_down, caplog):
    limit = int(django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"]
                .split("/")[0])
    with caplog.at_level(logging.WARNING, logger="croportal.cache_fallback"):
        statuses = [api.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"},
                             format="json").status_code for _ in range(limit + 2)]
    assert statuses == [400] * limit + [429, 429]
    warnings = [r for r in caplog.records if r.name == "croportal.cache_fallback"]
    assert len(warnings) == 1
    assert "Redis cache unreachable" in warnings[0].getMessage()


def test_every_cache_operation_answers_from_memory_while_redis_is_down(redis_down):
    assert cache.get("missing", "default") == "default"
    cache.set("counter", 1)
    assert cache.incr("counter") == 2
    assert cache.add("counter", 5) is False
    cache.set_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b"]) == {"a": 1, "b": 2}
    assert cache.has_key("a")
    cache.delete_many(["a", "b"])
    assert not cache.has_key("a")
    assert cache.get_or_set("made", lambda: "here") == "here"
    cache.clear()
    assert cache.get("counter") is None


def test_redis_is_used_again_once_it_answers(settings, fresh_fallback, redis_url, caplog):
    import redis

    settings.CACHES = fallback_cache(redis_url)
    cache_fallback._mark_down(ConnectionError("simulated outage"))
    cache.set("during-outage", "memory")  # Redis is resting: memory
    assert cache_fallback.FALLBACK.get("during-outage") == "memory"
    cache_fallback._down_until = 1.0  # the pause is over (monotonic time long past)
    with caplog.at_level(logging.WARNING, logger="croportal.cache_fallback"):
        cache.set("after-outage", "redis", timeout=60)
    assert cache.get("after-outage") == "redis"
    assert cache_fallback.FALLBACK.get("after-outage") is None
    assert any(redis.Redis.from_url(redis_url).scan_iter(match="*after-outage"))
    assert "Redis cache reachable again" in caplog.text
    cache.delete("after-outage")


def test_cache_use_redis_selects_the_falling_back_cache():
    script = ("from django.conf import settings; c = settings.CACHES['default']; "
              "print(c['BACKEND'], c['LOCATION'])")
    result = run_django(["shell", "--no-imports", "-c", script], CACHE_USE_REDIS="true",
                        REDIS_URL="redis://127.0.0.1:6379/13")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["croportal.cache_fallback.FallbackRedisCache",
                                     "redis://127.0.0.1:6379/13"]
