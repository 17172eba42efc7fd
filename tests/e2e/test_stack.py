import json
import os
import re
import shutil
import socket
import time
from http import HTTPStatus
from pathlib import Path

import pytest
import redis

from devstack import services
from devstack.base import CELERY
from devstack.ports import free_port
from devstack.processes import ManagedProcess, ProcessExitedError, run_command
from devstack.services import REPO, fetch_json
from devstack.waiting import wait_until
from tests.conftest import skip_or_fail


def test_healthz_reports_postgres_and_redis_ok_through_gunicorn(stack):
    status, body = fetch_json(f"{stack.base_url}/healthz")

    assert status == HTTPStatus.OK
    assert body == {"database": "ok", "broker": "ok"}


def test_the_stack_runs_on_its_own_postgres_database_and_redis(stack):
    assert stack.env["DATABASE_URL"] == stack.database_url
    assert stack.env["REDIS_URL"] == stack.redis_url
    assert stack.env["EMAIL_URL"] == stack.smtp.url
    assert stack.sql("SELECT current_database()") == [(stack.database_url.rsplit("/", 1)[1],)]
    assert stack.sql("SELECT count(*) FROM django_migrations")[0][0] > 0


def _send_accumulate(stack, *, queue):
    """Send Celery's built-in ``celery.accumulate`` task through the broker; return its id."""
    sent = run_command(
        [*CELERY, "call", "celery.accumulate", "--args", json.dumps([queue]), "--queue", queue],
        env=stack.env,
        cwd=REPO,
        timeout=60,
    )
    return sent.stdout.strip()


@pytest.mark.parametrize("queue", ["moderation", "email", "bulk"])
def test_the_worker_executes_a_task_sent_through_redis_to_each_queue(stack, queue):
    task_id = _send_accumulate(stack, queue=queue)

    done = re.compile(rf"Task celery\.accumulate\[{re.escape(task_id)}\] succeeded")
    worker = stack.processes["worker"]

    stack.wait_until(lambda: done.search(worker.output(limit=1 << 20)), timeout=60)


def test_django_mail_reaches_the_smtp_sink(stack):
    stack.manage("sendtestemail", "harness@example.org")

    message = stack.smtp.wait_for(lambda m: m["To"] == "harness@example.org")

    assert "Test email from" in message["Subject"]


def test_the_smtp_sink_refuses_mail_while_stopped_and_takes_it_on_the_same_port_again(stack):
    port = stack.smtp.port
    stack.smtp.stop()
    try:
        refused = stack.manage("sendtestemail", "down@example.org", check=False)
    finally:
        stack.smtp.start()
    stack.manage("sendtestemail", "up@example.org")

    assert refused.returncode != 0
    assert "Connection refused" in refused.stderr
    assert stack.smtp.port == port
    assert stack.smtp.wait_for(lambda m: m["To"] == "up@example.org")
    assert stack.smtp.find(lambda m: m["To"] == "down@example.org") is None


def test_a_task_queued_while_the_worker_is_down_runs_once_it_is_back(stack):
    stack.stop_process("worker")
    task_id = _send_accumulate(stack, queue="email")
    with redis.Redis.from_url(stack.redis_url) as broker:
        assert any(task_id.encode() in raw for raw in broker.lrange("email", 0, -1))

    worker = stack.start_process("worker")

    done = re.compile(rf"Task celery\.accumulate\[{re.escape(task_id)}\] succeeded")
    stack.wait_until(lambda: done.search(worker.output(limit=1 << 20)), timeout=60)


def test_a_stopped_service_is_running_again_after_the_test(stack):
    stack.stop_process("redis")

    assert stack.restore() == ["redis"]
    status, body = fetch_json(f"{stack.base_url}/healthz")
    assert status == HTTPStatus.OK
    assert body == {"database": "ok", "broker": "ok"}


def test_stopping_a_process_also_kills_the_children_it_left_in_its_group(tmp_path):
    process = ManagedProcess.start(
        name="family",
        argv=["sh", "-c", "sleep 300 & echo child=$!; wait"],
        env=os.environ,
        cwd=tmp_path,
        log_dir=tmp_path,
    )
    process.wait_for_output("child=", timeout=10)
    child = int(process.output().split("child=")[1].split()[0])

    process.stop(timeout=2)

    assert not process.running
    assert wait_until(lambda: _gone(child), timeout=5)


def _gone(pid):
    """Return whether ``pid`` has ended (an orphan may stay a zombie until init reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_a_process_that_dies_while_starting_fails_at_once_with_its_output(tmp_path):
    process = ManagedProcess.start(
        name="broken",
        argv=["sh", "-c", "echo cannot start; exit 3"],
        env=os.environ,
        cwd=tmp_path,
        log_dir=tmp_path,
    )
    started = time.monotonic()

    with pytest.raises(ProcessExitedError, match=r"(?s)exited with status 3.*cannot start"):
        process.wait_ready(lambda: False, timeout=30)

    assert time.monotonic() - started < 10
    process.stop()


def test_a_server_whose_port_was_taken_is_started_again_on_another(tmp_path, monkeypatch):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        skip_or_fail("redis-server is not installed")
        return
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        offered = iter([taken])
        monkeypatch.setattr(services, "free_port", lambda: next(offered, None) or free_port())

        redis, port = services.start_listening(
            name="redis",
            argv=services.redis_argv(redis_server, var_dir=tmp_path),
            ready=services.redis_ready,
            env=dict(os.environ),
            log_dir=tmp_path,
        )
    try:
        assert port != taken
        assert services.redis_ready(port)
    finally:
        redis.stop()
