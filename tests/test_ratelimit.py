"""REEX_SEND_RATE: one schedule in Redis that every worker process draws its slots from."""

import itertools
import multiprocessing
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from devstack.ports import free_port
from devstack.processes import ManagedProcess
from devstack.services import redis_argv, redis_ready, require_program
from devstack.waiting import wait_until
from reex import ratelimit
from reex.ratelimit import (
    CATCH_UP_SECONDS,
    LocalSchedule,
    RateUnavailable,
    RedisSchedule,
    send_slot_wait,
)
from tests.conftest import skip_or_fail

INTERVAL = 0.02  # 50 messages a second
PER_PROCESS = 25


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REEX_TEST_REDIS_URL, or a private redis-server on a free port."""
    if url := os.environ.get("REEX_TEST_REDIS_URL"):
        yield url
        return
    try:
        executable = require_program("redis-server")
    except Exception as error:
        skip_or_fail(f"no Redis for the shared rate: {error}")
    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = ManagedProcess.start(
        name="redis", argv=redis_argv(executable, var_dir=tmp)(port), env=dict(os.environ),
        cwd=Path.cwd(), log_dir=tmp,
    )  # fmt: skip
    try:
        wait_until(lambda: redis_ready(port), timeout=20, interval=0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.stop()


@pytest.fixture
def key() -> str:
    return f"reex:test-rate:{uuid.uuid4().hex}"


def _slots(url: str, key: str, start_at: float, count: int) -> list[float]:
    """In a child process: from ``start_at``, reserve ``count`` slots, sending at each one.

    Return the slots, on Redis's clock (one clock for both processes).
    """
    schedule = RedisSchedule(url, key=key)
    time.sleep(max(0.0, start_at - time.time()))
    slots = []
    for _ in range(count):
        slot, wait = schedule.reserve_slot(interval=INTERVAL)
        slots.append(slot)
        time.sleep(wait)
    return slots


def test_two_processes_share_one_rate(redis_url, key):
    start_at = time.time() + 3  # both children have started by then
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        runs = pool.starmap(_slots, [(redis_url, key, start_at, PER_PROCESS)] * 2)
    slots = sorted(runs[0] + runs[1])
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    # One schedule: every slot of either process is at least an interval after the one
    # before. Per-process limiters would put the two processes' slots side by side.
    assert min(gaps) >= INTERVAL - 1e-5, gaps
    assert {len(run) for run in runs} == {PER_PROCESS}


def test_a_reservation_waits_for_the_slot_after_the_last_one(redis_url, key):
    schedule = RedisSchedule(redis_url, key=key)
    waits = [schedule.reserve(interval=1.0) for _ in range(3)]
    # An idle schedule starts CATCH_UP_SECONDS behind the clock: the first goes at once.
    assert waits[0] == 0
    assert waits[1] == pytest.approx(1 - CATCH_UP_SECONDS, abs=0.05)
    assert waits[2] == pytest.approx(2 - CATCH_UP_SECONDS, abs=0.05)


def test_the_schedule_key_expires_once_idle(redis_url, key):
    RedisSchedule(redis_url, key=key).reserve(interval=0.5)
    ttl = redis.Redis.from_url(redis_url).pttl(key)
    assert 0 < ttl <= 61_000


def test_redis_down_stops_sending_instead_of_going_unlimited(key):
    schedule = RedisSchedule(f"redis://127.0.0.1:{free_port()}/0", key=key)
    with pytest.raises(RateUnavailable):
        schedule.reserve(interval=0.1)


def test_without_redis_the_schedule_is_kept_in_the_process():
    schedule = LocalSchedule()
    waits = [schedule.reserve(interval=0.5) for _ in range(3)]
    assert waits[0] == 0
    assert waits[2] == pytest.approx(1.0 - CATCH_UP_SECONDS, abs=0.05)


def test_send_slot_wait_sleeps_until_the_reserved_slot(settings, mocker):
    settings.REDIS_URL = ""
    settings.REEX_SEND_RATE = 4
    mocker.patch.dict(ratelimit._schedules, {"": LocalSchedule()})
    sleep = mocker.patch("reex.ratelimit.time.sleep")
    send_slot_wait()
    send_slot_wait()
    assert sleep.call_count == 1
    assert sleep.call_args.args[0] == pytest.approx(0.25 - CATCH_UP_SECONDS, abs=0.03)


def test_a_rate_of_zero_asks_nothing(settings, mocker):
    settings.REEX_SEND_RATE = 0
    schedule_for = mocker.patch("reex.ratelimit.schedule_for")
    assert send_slot_wait() == 0.0
    schedule_for.assert_not_called()
