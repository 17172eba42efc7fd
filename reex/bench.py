"""The baseline for `make bench`: the cheapest Django view the same gunicorn can serve."""

from django.http import HttpRequest, HttpResponse


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
