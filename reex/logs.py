"""Request ids in the logs, carried from a request into the tasks it queues; JSON lines.

``LOG_FORMAT=json`` writes one JSON object per line (time, level, logger, message,
request_id, and the exception when there is one). Every request gets an id: the
``X-Request-ID`` its proxy sent when it looks like one, a new one otherwise; it is
answered back in the same header and published with every task the request queues.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "reex_request_id"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
request_id: ContextVar[str] = ContextVar("request_id", default="")

Handler = Callable[[HttpRequest], HttpResponse]


def request_id_from(sent: str | None) -> str:
    """Return the id a proxy sent if it is a plausible one, else a new id."""
    if sent and _ACCEPTED.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = request_id.set(request_id_from(request.headers.get(HEADER)))
        try:
            response = self.get_response(request)
            response[HEADER] = request_id.get()
            return response
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_id.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


@before_task_publish.connect(weak=False)
def _publish_request_id(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
    if headers is not None and request_id.get():
        headers[TASK_HEADER] = request_id.get()


@task_prerun.connect(weak=False)
def _task_request_id(task: Any = None, **kwargs: object) -> None:
    sent = getattr(task.request, TASK_HEADER, None) if task is not None else None
    request_id.set(sent or "")


@task_postrun.connect(weak=False)
def _task_request_id_done(**kwargs: object) -> None:
    request_id.set("")
