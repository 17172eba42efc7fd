"""One sending rate for the whole site, shared by every worker process through Redis.

Each message reserves the next free slot on a schedule kept in one Redis key (the
"theoretical arrival time" of GCRA): a Lua script moves it on by ``1 / rate`` and answers
how long to wait before the reserved slot. Every worker draws from the same schedule, so
N workers together send at the rate, not N times it (listmonk's per-worker limiter
overshoots by the number of workers). Without Redis (the embedded broker) the schedule
lives in the process: the rate then holds per process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

import redis
from django.conf import settings

from reex.cache import REDIS_DOWN

KEY = "reex:send-rate:schedule"
# A sender that fell behind its slots (a slow message, a busy machine) may use slots this
# far in the past, so the rate over a minute holds; bursts stay within rate x this.
CATCH_UP_SECONDS = 0.2

# KEYS[1]: the schedule (seconds on Redis's clock). ARGV[1]: seconds per message,
# ARGV[2]: how far behind the clock the schedule may lag (CATCH_UP_SECONDS).
# Return the reserved slot and the wait until it, in whole microseconds.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now - tonumber(ARGV[2]) then slot = now - tonumber(ARGV[2]) end
local keep = math.ceil((slot + interval - now) * 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', keep)
return {math.floor(slot * 1000000), math.floor(math.max(slot - now, 0) * 1000000)}
"""


class RateUnavailable(Exception):
    """Redis did not answer: nothing may be sent until the shared schedule is back."""


class Schedule(Protocol):
    def reserve(self, *, interval: float) -> float: ...


@dataclass
class LocalSchedule:
    """The same schedule in process memory (per process: no Redis to share it)."""

    next_slot: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reserve(self, *, interval: float) -> float:
        with self.lock:
            now = time.monotonic()
            slot = max(self.next_slot, now - CATCH_UP_SECONDS)
            self.next_slot = slot + interval
            return max(slot - now, 0.0)


class RedisSchedule:
    """The schedule in Redis, on one connection this process keeps."""

    def __init__(self, url: str, *, key: str = KEY) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.script = self.client.register_script(_RESERVE)
        self.key = key

    def reserve(self, *, interval: float) -> float:
        return self.reserve_slot(interval=interval)[1]

    def reserve_slot(self, *, interval: float) -> tuple[float, float]:
        """Return the slot reserved (seconds on Redis's clock) and the wait until it."""
        try:
            args = [repr(interval), repr(CATCH_UP_SECONDS)]
            slot, wait = self.script(keys=[self.key], args=args)
        except (*REDIS_DOWN, redis.exceptions.ResponseError) as error:
            raise RateUnavailable(str(error)) from error
        return int(slot) / 1_000_000, int(wait) / 1_000_000


_schedules: dict[str, Schedule] = {}


def schedule_for(url: str) -> Schedule:
    """Return this process's schedule for the Redis at ``url`` (local when empty)."""
    if url not in _schedules:
        _schedules[url] = RedisSchedule(url) if url else LocalSchedule()
    return _schedules[url]


def send_slot_wait(*, rate: float | None = None) -> float:
    """Wait for this process's turn to send one message; return the seconds waited.

    ``rate`` (messages per second for the whole site) defaults to REEX_SEND_RATE; 0 means
    unlimited and asks nothing. Raises RateUnavailable when Redis is down.
    """
    rate = settings.REEX_SEND_RATE if rate is None else rate
    if rate <= 0:
        return 0.0
    wait = schedule_for(settings.REDIS_URL).reserve(interval=1.0 / rate)
    if wait > 0:
        time.sleep(wait)
    return wait
