"""Production metrics in Prometheus's text format at ``/metrics``.

Counters and histograms are kept by prometheus-client in multiprocess mode (files under
``PROMETHEUS_MULTIPROC_DIR``, set from ``REEX_METRICS_DIR``), so that gunicorn's workers,
runserver's threads and the Celery workers on one machine add up to one answer. Queue
depths and the spam filter version are read from the database when scraped.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reex.net import client_ip

REQUESTS = Counter(
    "reex_http_requests", "HTTP requests answered, by view and status", ["view", "method", "status"]
)
LATENCY = Histogram(
    "reex_http_request_duration_seconds",
    "Time to answer a request, by view",
    ["view"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
COMMENTS_DECIDED = Counter(
    "reex_comments_decided", "Comments decided by the moderation checks, by outcome", ["outcome"]
)
EMAILS_SENT = Counter("reex_emails_sent", "Emails handed to the mail server, by kind", ["kind"])

Handler = Callable[[HttpRequest], HttpResponse]
# The most (view, method, status) children a middleware keeps at hand before starting over.
MAX_CHILDREN = 1000


def comments_decided(outcomes: list[str]) -> None:
    for outcome in outcomes:
        COMMENTS_DECIDED.labels(outcome).inc()


class MetricsMiddleware:
    """Count every answer and time it, labelled by the view's URL name (not the path).

    The labelled children are kept per (view, method, status): a request after the first
    of its kind costs a dict lookup, not prometheus-client's label checks and lock.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        kind = ((match.view_name if match else "") or "unmatched", request.method or "",
                response.status_code)  # fmt: skip
        children = self._children.get(kind)
        if children is None:
            children = self._children[kind] = self._labelled(*kind)
        children[0].observe(elapsed)
        children[1].inc()
        return response

    def _labelled(self, view: str, method: str, status: int) -> tuple[Any, Any]:
        # Views are URL names and statuses a few dozen, but a client may make methods up.
        if len(self._children) >= MAX_CHILDREN:
            self._children.clear()
        return LATENCY.labels(view), REQUESTS.labels(view, method, str(status))


class DatabaseCollector(Collector):
    """Gauges read at scrape time: the work waiting for the workers, the filter's version."""

    def collect(self) -> Iterator[Metric]:
        from comments.selectors import comments_unchecked_count, spam_model_version_current
        from subscriptions.selectors import deliveries_unsent_count

        yield _gauge(
            "reex_comments_unchecked", "Comments waiting for the checks", comments_unchecked_count()
        )
        yield _gauge(
            "reex_deliveries_unsent", "Emails queued and not yet sent", deliveries_unsent_count()
        )
        yield _gauge("reex_spam_filter_version", "The spam filter version in use (0: rules only)",
                     spam_model_version_current() or 0)  # fmt: skip


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def metrics_allowed(request: HttpRequest) -> bool:
    """Return whether the caller holds the metrics token or comes from an allowed network."""
    token = settings.REEX_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    ip = client_ip(request)
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in network for network in settings.REEX_METRICS_ALLOW)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.REEX_METRICS:
        raise Http404("metrics are off")
    if not metrics_allowed(request):
        return HttpResponse("Forbidden", status=HTTPStatus.FORBIDDEN, content_type="text/plain")
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
