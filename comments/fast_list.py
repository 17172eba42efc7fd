"""The cached first page of an article's public comments, answered without DRF.

A plain GET (anonymous, no query string, an ``Accept`` that JSON satisfies) whose page the
cache holds current is answered here: the cached bytes with the headers the DRF view sends
for them (``Allow``; ``Vary: Cookie`` from reading the user, as its session
authentication does). Everything else goes to the DRF view unchanged: a miss, a page
being re-rendered (the view renders once and serves the previous body meanwhile), HEAD
and OPTIONS, a request with credentials, a query string or an ``Accept`` that DRF's
content negotiation reads otherwise. A hit costs one cache round trip and no DRF.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from comments import public_cache

View = Callable[..., HttpResponseBase]
# What DRF's content negotiation matches to its JSON renderer, the only one configured.
JSON_ACCEPTS = frozenset({"*/*", "application/*", "application/json"})
MAX_ACCEPT = 256


def plain_get(request: HttpRequest) -> bool:
    """Return whether DRF would answer ``request`` as an anonymous GET of the cached page in
    JSON: no credentials, no query string, no media type parameters (``indent=``)."""
    meta = request.META
    if request.method != "GET" or meta.get("QUERY_STRING") or "HTTP_AUTHORIZATION" in meta:
        return False
    if "HTTP_COOKIE" in meta and settings.SESSION_COOKIE_NAME in request.COOKIES:
        return False
    accept = meta.get("HTTP_ACCEPT")
    if accept is None:
        return True
    if len(accept) > MAX_ACCEPT or ";" in accept:
        return False
    return any(kind.strip() in JSON_ACCEPTS for kind in accept.split(","))


@cache
def _allow() -> str:
    """The ``Allow`` header DRF's list view answers with."""
    from comments.apis import ArticleCommentsApi

    view = ArticleCommentsApi()
    view.setup(HttpRequest())
    return ", ".join(view.allowed_methods)


def with_cached_get(view: View) -> View:
    """Return ``view`` with the plain GETs of a current cached page answered here."""

    @csrf_exempt
    @wraps(view)
    def lean(request: HttpRequest, key: str) -> HttpResponseBase:
        if not plain_get(request):
            return view(request, key=key)
        body = public_cache.public_list_cached(
            article_key=key, url=request.build_absolute_uri()
        ).body
        if body is None:
            return view(request, key=key)
        response = HttpResponse(body, content_type="application/json")
        response["Allow"] = _allow()
        # DRF's session authentication reads the (anonymous: no session cookie) user, which
        # makes the session middleware add this; it is said here instead of loading both.
        response["Vary"] = "Cookie"
        return response

    return lean
