import json
import logging
from types import SimpleNamespace

import pytest

from reex import logs

pytestmark = pytest.mark.django_db


def test_every_answer_carries_a_new_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert len(first) == 32
    assert first != second


def test_it_keeps_the_id_a_proxy_sent(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-4f1c2a9b")

    assert response["X-Request-ID"] == "edge-4f1c2a9b"


def test_it_replaces_an_id_that_could_forge_log_lines(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID='x"\n{"level":"ERROR"}')

    assert response["X-Request-ID"] != 'x"\n{"level":"ERROR"}'
    assert len(response["X-Request-ID"]) == 32


def json_line(message: str, *, exc_info=None) -> dict[str, object]:
    record = logging.LogRecord("reex.test", logging.WARNING, __file__, 1, message, (), exc_info)
    logs.RequestIdFilter().filter(record)
    return json.loads(logs.JsonFormatter().format(record))


def test_a_json_line_names_the_request_it_was_logged_in():
    token = logs.request_id.set("req-12345678")
    try:
        line = json_line('quote " and newline \n inside')
    finally:
        logs.request_id.reset(token)

    assert line["request_id"] == "req-12345678"
    assert line["message"] == 'quote " and newline \n inside'
    assert line["level"] == "WARNING"
    assert line["logger"] == "reex.test"


def test_a_json_line_carries_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = json_line("failed", exc_info=sys.exc_info())

    assert "ValueError: boom" in str(line["exception"])


def test_a_task_queued_by_a_request_runs_under_the_same_id():
    headers: dict[str, object] = {}
    token = logs.request_id.set("req-abcdef12")
    try:
        logs._publish_request_id(headers=headers)
    finally:
        logs.request_id.reset(token)
    task = SimpleNamespace(request=SimpleNamespace(**headers))

    logs._task_request_id(task=task)
    try:
        assert logs.request_id.get() == "req-abcdef12"
    finally:
        logs._task_request_id_done()
    assert logs.request_id.get() == ""
