"""Django's Redis cache, falling back to a per-process memory cache while Redis is down.

The cache holds only what may be lost: API throttling counts (sessions and django-axes'
lock-outs live in the database). So a Redis outage must not turn the token endpoint into a
500: the counts go on in this process's memory (a per-process limit, as without
CACHE_USE_REDIS) and Redis is tried again after a short pause. Logged once per outage.
"""

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_SECONDS = 30.0  # while down, Redis is not asked again before this
FALLBACK = LocMemCache("croportal-redis-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})

_state = threading.Lock()
_down_until = 0.0  # monotonic time before which Redis is known down (per process)


def _redis_is_resting() -> bool:
    return time.monotonic() < _down_until


def _mark_down(error: Exception) -> None:
    global _down_until
    with _state:
        first = _down_until == 0.0
        _down_until = time.monotonic() + RETRY_AFTER_SECONDS
    if first:
        logger.warning("Redis cache unreachable (%s: %s): using this process's memory until "
                       "it answers again", type(error).__name__, error)


def _mark_up() -> None:
    global _down_until
    with _state:
        was_down, _down_until = _down_until != 0.0, 0.0
    if was_down:
        logger.warning("Redis cache reachable again")


def _with_fallback(name: str):
    def method(self, *args: Any, **kwargs: Any) -> Any:
        if not _redis_is_resting():
            try:
                result = getattr(super(FallbackRedisCache, self), name)(*args, **kwargs)
            except UNREACHABLE as error:
                _mark_down(error)
            else:
                if _down_until:
                    _mark_up()
                return result
        return getattr(FALLBACK, name)(*args, **kwargs)

    method.__name__ = name
    return method


class FallbackRedisCache(RedisCache):
    """RedisCache whose every operation falls back to a local-memory cache when unreachable."""


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr",
              "set_many", "delete_many", "clear"):
    setattr(FallbackRedisCache, _name, _with_fallback(_name))
