"""How reex answers when a backing service is down, instead of a 500 and a traceback.

- The database (PostgreSQL) unreachable: the API answers 503 with a JSON body, pages a
  plain 503 page (rendered without the request, so without the session or messages that
  would need the database again), with ``Retry-After``, and one log line, no traceback.
- Redis unreachable as the cache: the cache fails open (a miss, a write dropped), so the
  DRF throttles let requests through and readers can still comment and sign up; the work
  is saved in the database and the sweeps queue it once the broker is back.
"""

from __future__ import annotations

import logging
import sys
from http import HTTPStatus
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)
UNAVAILABLE = "The service is temporarily unavailable. Please try again in a moment."


def is_database_outage(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_ERRORS)


def _log_outage(request: HttpRequest, error: BaseException) -> None:
    # One line: the cause is known and the traceback would only repeat it per request.
    message = " ".join(str(error).split())[:300] or type(error).__name__
    logger.error("database unavailable for %s %s: %s", request.method, request.path, message)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """Return the 503 answer: JSON for the API, the plain 503 page elsewhere."""
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse({"detail": UNAVAILABLE}, status=HTTPStatus.SERVICE_UNAVAILABLE)
    else:
        page = render_to_string("503.html", {"message": UNAVAILABLE})
        response = HttpResponse(page, status=HTTPStatus.SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus a 503 JSON answer when the database cannot be reached."""
    if not is_database_outage(exc):
        return exception_handler(exc, context)
    request = context.get("request")
    if request is not None:
        _log_outage(request, exc)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return Response({"detail": UNAVAILABLE}, status=HTTPStatus.SERVICE_UNAVAILABLE, headers=headers)


class DatabaseUnavailableMiddleware:
    """Turn a database outage raised by a view (pages, admin) into the 503 answer."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_outage(exception):
            return None
        _log_outage(request, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage raised outside a view is a 503 too."""
    error = sys.exc_info()[1]
    if is_database_outage(error):
        return unavailable_response(request)
    return HttpResponse(render_to_string("500.html"), status=HTTPStatus.INTERNAL_SERVER_ERROR)
