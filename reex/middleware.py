"""Guards in front of every view: an early 413 for oversized bodies, JSON errors for the API."""

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
Handler = Callable[[HttpRequest], HttpResponse]


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(request: HttpRequest, *, status: HTTPStatus, message: str) -> HttpResponse:
    """Return ``message`` as ``{"detail": ...}`` for the API, as plain text elsewhere."""
    if is_api_request(request):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def declared_length(request: HttpRequest) -> int:
    """Return the body size the client announced (0 when absent or garbled, as Django reads it)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class RequestBodyLimitMiddleware:
    """Refuse a body over DATA_UPLOAD_MAX_MEMORY_SIZE with 413, before anything reads it.

    Django applies that limit only when ``request.body`` is read, and DRF's parsers read the
    stream directly, so without this a 10 MB JSON document would be parsed in full. The
    project accepts no file uploads, so the whole body is held to the limit.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and declared_length(request) > limit:
            message = f"The request body is too large: at most {limit} bytes are accepted."
            return error_response(
                request, status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE, message=message
            )
        return self.get_response(request)


class ApiJsonErrorsMiddleware:
    """Give the API's clients JSON for the 4xx pages Django itself renders as HTML.

    DRF answers in JSON, but a path its URL converters refuse (``/comments/x/``), a method
    a plain Django view refuses, or a body Django cannot read never reaches DRF.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api_request(request) or not _is_client_error(response) or _is_json(response):
            return response
        try:
            status = HTTPStatus(response.status_code)
        except ValueError:
            return response
        replacement = error_response(request, status=status, message=status.phrase)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Python's json module recurses once per nesting level: "[[[[..." in a small body
        # exhausts the stack inside DRF's parser, which lets the error through as a 500.
        if is_api_request(request) and isinstance(exception, RecursionError):
            message = "JSON parse error - the document is nested too deeply."
            return error_response(request, status=HTTPStatus.BAD_REQUEST, message=message)
        return None


def _is_client_error(response: HttpResponse) -> bool:
    return HTTPStatus.BAD_REQUEST <= response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")
