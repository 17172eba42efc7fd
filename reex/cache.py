"""The cache backend for Redis: an outage degrades the cache instead of failing requests."""

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
Method = Callable[..., Any]


def _fail_open(method: Method, *, answer: Method) -> Method:
    """Wrap a cache method: with Redis down, log and return ``answer(*args, **kwargs)``."""

    @functools.wraps(method)
    def guarded(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except REDIS_DOWN as error:
            logger.warning("cache unavailable, %s skipped: %s", method.__name__, error)
            return answer(*args, **kwargs)

    return guarded


def _default(key: Any, default: Any = None, *args: Any, **kwargs: Any) -> Any:
    return default


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, but Redis being down reads as a miss and drops writes.

    The cache only holds counters and copies (throttles), so while Redis is down the
    site keeps answering without them rather than failing every request.
    """

    get = _fail_open(RedisCache.get, answer=_default)
    get_many = _fail_open(RedisCache.get_many, answer=lambda *a, **k: {})
    has_key = _fail_open(RedisCache.has_key, answer=lambda *a, **k: False)
    set = _fail_open(RedisCache.set, answer=lambda *a, **k: None)
    set_many = _fail_open(RedisCache.set_many, answer=lambda data, *a, **k: list(data))
    add = _fail_open(RedisCache.add, answer=lambda *a, **k: False)
    touch = _fail_open(RedisCache.touch, answer=lambda *a, **k: False)
    delete = _fail_open(RedisCache.delete, answer=lambda *a, **k: False)
    delete_many = _fail_open(RedisCache.delete_many, answer=lambda *a, **k: None)
