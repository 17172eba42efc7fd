"""The sign-up API's everyday request, answered without DRF's request and response objects.

A small JSON body that the sign-up serializer's own fields accept, from a client that
takes JSON, is answered here, with the body and headers DRF would send. Anything else
goes on to DRF untouched, so that every refusal keeps its shape. Either way the throttle
counts the request once: nothing here counts it before the request is known to stay.
"""

from functools import cache
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from rest_framework import serializers
from rest_framework.fields import Field
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from reex.errors import api_exception_handler
from reex.middleware import declared_length
from reex.plain_json import is_plain_json_post, json_body
from subscriptions import selectors, services, signups
from subscriptions.consent import CURRENT as CONSENT
from subscriptions.consent import Requester, requester_of
from subscriptions.models import ConsentEvent
from subscriptions.serializers import SubscribeInSerializer

# Larger bodies, and JSON that is not a plain object, are DRF's to read.
QUICK_BODY_MAX = 4096
_renderer = JSONRenderer()

# The same words whatever the address's state: nobody learns who is subscribed.
ACCEPTED = (
    "Thank you. If this address can be subscribed, a confirmation email is on its way: "
    "follow its link to start receiving the newsletter."
)


@cache
def _fields() -> dict[str, Field]:
    # Bound once: a field's run_validation keeps no state between calls.
    return dict(SubscribeInSerializer().fields)


def _json_object(request: HttpRequest) -> dict[str, Any] | None:
    """Return the body's JSON object if this request is a plain one, else None."""
    if not is_plain_json_post(request) or not 0 < declared_length(request) <= QUICK_BODY_MAX:
        return None
    data = json_body(request)
    return data if isinstance(data, dict) else None


def _signup_input(data: dict[str, Any]) -> tuple[str, list[str]] | None:
    """Return the address and list slugs when the serializer's fields accept them all."""
    if data.get("consent") is not True or "email" not in data:
        return None
    fields = _fields()
    try:
        email = fields["email"].run_validation(data["email"])
        slugs = fields["lists"].run_validation(data["lists"]) if "lists" in data else None
    except (serializers.ValidationError, DjangoValidationError):
        return None
    return email, list(slugs) if slugs is not None else [selectors.DEFAULT_LIST]


def signup_answer(view: APIView, request: HttpRequest) -> HttpResponse | None:
    """Answer a plain sign-up as ``view`` would; None: DRF has to answer this one."""
    data = _json_object(request)
    found = _signup_input(data) if data is not None else None
    if data is None or found is None:
        return None
    context = {"view": view, "request": request}
    try:
        view.check_throttles(request)  # type: ignore[arg-type]
        return _signup(view, request, data, *found)
    except Exception as error:
        answer = api_exception_handler(error, context)
        if answer is None:
            raise
        headers = {k: v for k, v in answer.items() if k.lower() != "content-type"}
        return _json(view, answer.data, status=answer.status_code, headers=headers)


def _signup(
    view: APIView, request: HttpRequest, data: dict[str, Any], email: str, slugs: list[str]
) -> HttpResponse:
    requester = requester_of(request, source=ConsentEvent.Source.API)
    if not signups.subscription_request_by_slugs(
        email=email, slugs=slugs, consent=CONSENT, requester=requester
    ):
        _lists_checked_again(data, requester)
    return _answer(type(view), _accepted(), status=202)


@cache
def _accepted() -> bytes:
    return _renderer.render({"detail": ACCEPTED})


def _lists_checked_again(data: dict[str, Any], requester: Requester) -> None:
    """Raise the serializer's 400 for a list that names none; sign up if all do by now."""
    serializer = SubscribeInSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    services.subscription_request(
        email=serializer.validated_data["email"],
        lists=serializer.validated_data["lists"],
        consent=CONSENT,
        requester=requester,
    )


def _json(
    view: APIView,
    data: object,
    *,
    status: int,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """Return ``data`` as DRF's JSON renderer writes it, with the view's own headers."""
    return _answer(type(view), _renderer.render(data), status=status, headers=headers)


def _answer(
    view_class: type[APIView], body: bytes, *, status: int, headers: dict[str, str] | None = None
) -> HttpResponse:
    """Return the response, finished as DRF's finalize_response finishes an HttpResponse."""
    response = HttpResponse(body, status=status, content_type="application/json", headers=headers)
    view_headers = _view_headers.get(view_class)
    if view_headers is None:
        view_headers = _view_headers[view_class] = view_class().default_response_headers
    for name, value in view_headers.items():
        if name == "Vary":
            patch_vary_headers(response, [v.strip() for v in value.split(",")])
        else:
            response[name] = value
    return response


# The headers DRF adds to each answer of a view class (Allow; Vary with more renderers).
_view_headers: dict[type[APIView], dict[str, str]] = {}
