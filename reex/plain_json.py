"""Whether DRF would read a request as an anonymous JSON POST answered in JSON, and its body.

A view that answers its everyday request without DRF's request and response objects (the
comment POST, the sign-up) takes only the requests that DRF would read that plainly: no
credentials or session (no authentication to run, no CSRF check), no query string, a JSON
body in UTF-8, and an Accept that DRF's JSON renderer (the only renderer configured)
would take as it stands. Anything else is left to DRF, which answers it with its own
status and error shape. The test is deliberately narrower than DRF: a request it refuses
costs DRF's path, never a different answer.
"""

from django.conf import settings
from django.http import HttpRequest
from rest_framework.utils import json

CONTENT_TYPES = frozenset(
    {"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"}
)
# An Accept with one of these (and no parameters) gets the JSON renderer, as it would in DRF.
JSON_ACCEPTS = frozenset({"*/*", "application/*", "application/json"})
MAX_ACCEPT = 256


def accepts_json(accept: str | None) -> bool:
    """Return whether DRF's content negotiation would plainly pick JSON for ``accept``."""
    if accept is None:
        return True
    if len(accept) > MAX_ACCEPT or ";" in accept:
        return False
    return any(kind.strip() in JSON_ACCEPTS for kind in accept.split(","))


def is_anonymous_without_query(request: HttpRequest) -> bool:
    """Return whether ``request`` carries no credentials, no session and no query string."""
    meta = request.META
    if meta.get("QUERY_STRING") or "HTTP_AUTHORIZATION" in meta:
        return False
    return "HTTP_COOKIE" not in meta or settings.SESSION_COOKIE_NAME not in request.COOKIES


def is_plain_json_post(request: HttpRequest) -> bool:
    """Return whether DRF would read ``request`` as an anonymous JSON POST answered in JSON."""
    if request.method != "POST" or request.META.get("CONTENT_TYPE") not in CONTENT_TYPES:
        return False
    return is_anonymous_without_query(request) and accepts_json(request.META.get("HTTP_ACCEPT"))


def json_body(request: HttpRequest) -> object:
    """Return the body's JSON value, or None when DRF's JSONParser would refuse it.

    DRF's json refuses NaN and Infinity, as its JSONParser does (STRICT_JSON). A body of
    ``null`` is None too: no view here takes it.
    """
    try:
        return json.loads(request.body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
