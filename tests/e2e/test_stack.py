import json
import re
import time
from http import HTTPStatus

import pytest

from tests.support.processes import run_command
from tests.support.services import fetch_json
from tests.support.stack import CELERY, REPO


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

    stack.wait_until(lambda: done.search(worker.output(limit=1 << 20)), timeout=30)


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
    time.sleep(1)

    worker = stack.start_process("worker")

    done = re.compile(rf"Task celery\.accumulate\[{re.escape(task_id)}\] succeeded")
    stack.wait_until(lambda: done.search(worker.output(limit=1 << 20)), timeout=30)


def test_a_stopped_service_is_running_again_after_the_test(stack):
    stack.stop_process("redis")

    assert stack.restore() == ["redis"]
    status, body = fetch_json(f"{stack.base_url}/healthz")
    assert status == HTTPStatus.OK
    assert body == {"database": "ok", "broker": "ok"}
