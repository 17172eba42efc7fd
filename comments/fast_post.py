"""A reader's comment POSTed to the API, answered without DRF's machinery when it can be.

Nearly every post is plain: JSON from an anonymous browser, each field of the type the
serializer wants. Such a post is checked here as CommentCreateSerializer checks it, handed
to the service, and answered as the DRF view answers (same status, body and headers).
Anything else (credentials, a session, a format or Accept the renderer would weigh, a body
or field the serializer would refuse or coerce) goes to the DRF view itself, so each error
keeps its shape. The throttle counts a request once: the view a counted request goes on to
does not count it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache, wraps
from http import HTTPStatus
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from rest_framework import fields as drf_fields
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from comments import services
from comments.fast_list import article_comments_allow
from comments.models import Article
from comments.serializers import CommentCreateSerializer
from comments.submitting import AWAITING_MODERATION, submission_fields
from reex.errors import DATABASE_ERRORS, api_exception_handler
from reex.net import CommentRateThrottle
from reex.plain_json import is_plain_json_post, json_body

View = Callable[..., HttpResponseBase]
Answer = tuple[int, Any, dict[str, str]]

# DRF's CharField refuses NUL and lone surrogates (which JSON escapes can carry).
_REFUSED_TEXT = re.compile("[\x00\ud800-\udfff]")
_MAX_INT = 2**63 - 1
_MISSING = object()
_renderer = JSONRenderer()
NO_ARTICLE = "No Article matches the given query."


def comment_post_answer(*, request: HttpRequest, key: str, data: Mapping[str, Any]) -> Answer:
    """Submit the validated comment; return the status, body and headers to answer with."""
    try:
        comment = services.comment_submit(
            article_key=key,
            article_url=data["article_url"],
            article_title=data["article_title"],
            **submission_fields(data, request),
        )
    except Article.DoesNotExist:
        return HTTPStatus.NOT_FOUND, {"detail": NO_ARTICLE}, {}
    except DjangoValidationError as error:
        fields = error.message_dict if hasattr(error, "error_dict") else error.messages
        return HTTPStatus.BAD_REQUEST, fields, {}
    except services.CommentsClosed as error:
        return HTTPStatus.FORBIDDEN, {"detail": error.message}, {}
    except services.DuplicateComment as error:
        return HTTPStatus.CONFLICT, {"detail": error.message}, {}
    except services.CommentFlood as error:
        retry = {"Retry-After": str(error.retry_after)}
        return HTTPStatus.TOO_MANY_REQUESTS, {"detail": error.message}, retry
    until = services.comment_edit_deadline(comment) if comment.edit_token else None
    accepted = {
        "id": comment.pk,
        "status": comment.status,
        "detail": AWAITING_MODERATION,
        "edit_token": comment.edit_token,
        "editable_until": until,
    }
    return HTTPStatus.ACCEPTED, accepted, {}


def _text(field: drf_fields.CharField, value: object) -> object:
    """Return the value CharField ``field`` makes of ``value``, or _MISSING to let DRF say."""
    if type(value) is not str or _REFUSED_TEXT.search(value):
        return _MISSING
    text = value.strip() if field.trim_whitespace else value
    if not text and not field.allow_blank:
        return _MISSING
    too_short = field.min_length is not None and len(text) < field.min_length
    too_long = field.max_length is not None and len(text) > field.max_length
    return _MISSING if too_short or too_long else text


def _integer(field: drf_fields.IntegerField, value: object) -> object:
    if value is None:
        return None if field.allow_null else _MISSING
    if type(value) is not int or not 0 <= value <= _MAX_INT:
        return _MISSING
    too_small = field.min_value is not None and value < field.min_value
    too_big = field.max_value is not None and value > field.max_value
    return _MISSING if too_small or too_big else value


def _boolean(field: drf_fields.BooleanField, value: object) -> object:
    return value if type(value) is bool else _MISSING


# The exact field classes read here; a field of another class (or with validators of its
# own) leaves every post to DRF.
_READERS: dict[type[drf_fields.Field], Callable[[Any, object], object]] = {
    drf_fields.CharField: _text,
    drf_fields.IntegerField: _integer,
    drf_fields.BooleanField: _boolean,
}
_DEFAULT_VALIDATORS = {
    drf_fields.CharField: 2,  # ProhibitNullCharacters, ProhibitSurrogateCharacters
    drf_fields.IntegerField: 0,
    drf_fields.BooleanField: 0,
}


@cache
def _fields() -> tuple[tuple[str, drf_fields.Field, Callable[[Any, object], object]], ...] | None:
    """Return the serializer's fields with their readers, or None if one cannot be read."""
    serializer = CommentCreateSerializer()
    if type(serializer).validate is not serializers.Serializer.validate:
        return None
    found = []
    for name, field in serializer.fields.items():
        if hasattr(serializer, f"validate_{name}"):
            return None
        reader = _READERS.get(type(field))
        if reader is None or field.read_only or field.source != name:
            return None
        own_validators = len(field.validators) - _DEFAULT_VALIDATORS[type(field)]
        length_validators = int(getattr(field, "max_length", None) is not None)
        length_validators += int(getattr(field, "min_length", None) is not None)
        length_validators += int(getattr(field, "max_value", None) is not None)
        length_validators += int(getattr(field, "min_value", None) is not None)
        if own_validators != length_validators:
            return None
        found.append((name, field, reader))
    return tuple(found)


def validated(payload: object) -> dict[str, Any] | None:
    """Return what CommentCreateSerializer validates ``payload`` into, or None when it would
    refuse it or read it less plainly (then DRF answers)."""
    readers = _fields()
    if readers is None or not isinstance(payload, dict):
        return None
    data: dict[str, Any] = {}
    for name, field, reader in readers:
        value = payload.get(name, _MISSING)
        if value is _MISSING:
            if field.required or field.default is drf_fields.empty:
                return None
            data[name] = field.get_default()
            continue
        value = reader(field, value)
        if value is _MISSING:
            return None
        data[name] = value
    return data


def _respond(status: int, data: Any, headers: Mapping[str, str]) -> HttpResponse:
    """Return the answer as the DRF view renders it."""
    response = HttpResponse(_renderer.render(data), status=status, content_type="application/json")
    response["Allow"] = article_comments_allow()
    for name, value in headers.items():
        response[name] = value
    return response


def _from_drf(response: Response) -> HttpResponse:
    headers = {name: value for name, value in response.items() if name != "Content-Type"}
    return _respond(response.status_code, response.data, headers)


def _throttle_allows(request: HttpRequest) -> bool:
    """Count the post as the DRF view's throttle would; False if it is over the rate."""
    # The throttle reads the client's address from META, which both requests carry.
    return CommentRateThrottle().allow_request(request, None)  # type: ignore[arg-type]


def with_lean_post(drf_view: View, unthrottled: View) -> View:
    """Return ``drf_view`` with its plain POSTs answered here (``unthrottled``: the same
    view without the throttle, for a request counted here already)."""

    @csrf_exempt
    @wraps(drf_view)
    def view(request: HttpRequest, key: str) -> HttpResponseBase:
        if not is_plain_json_post(request):
            return drf_view(request, key=key)
        if not _throttle_allows(request):
            return drf_view(request, key=key)
        data = validated(json_body(request))
        if data is None:
            return unthrottled(request, key=key)
        request.user.is_authenticated  # noqa: B018 (read, as DRF reads it: Vary: Cookie)
        try:
            return _respond(*comment_post_answer(request=request, key=key, data=data))
        except DATABASE_ERRORS as error:
            answer = api_exception_handler(error, {"request": request})
            if answer is None:
                raise
            return _from_drf(answer)

    return view
