"""The cache backend for Redis: an outage degrades the cache instead of failing requests."""

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

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


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


class KeptRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one Redis client (and pool) per server per process.

    Django builds a new ``redis.Redis`` for every cache call (its response callbacks cost
    about 100 us each time) and, since caches are per thread, a pool per thread: a threaded
    server held a Redis connection per request thread. One client per process is
    thread-safe and keeps one pool.
    """

    # Set by Django's client; its stubs do not declare them.
    _servers: list[str]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _client: Any

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        server = self._servers[index]
        client = _clients.get(server)
        if client is None:
            with _clients_lock:
                client = _clients.get(server)
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = _clients[server] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, but Redis being down reads as a miss and drops writes.

    The cache only holds counters and copies (throttles), so while Redis is down the
    site keeps answering without them rather than failing every request.
    """

    # Django's cached property (the client below); its stubs do not declare it.
    _cache: Any

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptRedisCacheClient

    get = _fail_open(RedisCache.get, answer=_default)
    get_many = _fail_open(RedisCache.get_many, answer=lambda *a, **k: {})
    has_key = _fail_open(RedisCache.has_key, answer=lambda *a, **k: False)
    set = _fail_open(RedisCache.set, answer=lambda *a, **k: None)
    set_many = _fail_open(RedisCache.set_many, answer=lambda data, *a, **k: list(data))
    add = _fail_open(RedisCache.add, answer=lambda *a, **k: False)
    touch = _fail_open(RedisCache.touch, answer=lambda *a, **k: False)
    delete = _fail_open(RedisCache.delete, answer=lambda *a, **k: False)
    delete_many = _fail_open(RedisCache.delete_many, answer=lambda *a, **k: None)

    def get_values(self, keys: list[str]) -> list[Any]:
        """Return the values of ``keys`` in order (None where missing) in one round trip:
        ``get_many`` without the memcached key checks Django makes on every call (these
        keys are the caller's own). Redis down reads as all missing."""
        try:
            client = self._cache.get_client(None)
            values = client.mget([self.make_key(key) for key in keys])
        except REDIS_DOWN as error:
            logger.warning("cache unavailable, get_values skipped: %s", error)
            return [None] * len(keys)
        loads = self._cache._serializer.loads
        return [None if value is None else loads(value) for value in values]
