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

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from comments import public_cache
from reex.plain_json import accepts_json, is_anonymous_without_query

View = Callable[..., HttpResponseBase]


def plain_get(request: HttpRequest) -> bool:
    """Return whether DRF would answer ``request`` as an anonymous GET of the cached page in
    JSON: no credentials, no query string, no media type parameters (``indent=``)."""
    if request.method != "GET" or not is_anonymous_without_query(request):
        return False
    return accepts_json(request.META.get("HTTP_ACCEPT"))


@cache
def article_comments_allow() -> str:
    """The ``Allow`` header DRF's view of an article's comments answers with."""
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
        response["Allow"] = article_comments_allow()
        # DRF's session authentication reads the (anonymous: no session cookie) user, which
        # makes the session middleware add this; it is said here instead of loading both.
        response["Vary"] = "Cookie"
        return response

    return lean
