"""django-csp's middleware with the site-wide policy built once per process, not twice per
response.

django-csp builds both headers (enforced and report-only) from the settings on every
response: two ``dataclasses.asdict`` copies and two ``build_policy`` calls, about 80 us of
every answer. Almost every answer carries the site-wide policy unchanged, so those headers
are built once (again when a CONTENT_SECURITY_POLICY setting changes, as in tests). A
response with a policy of its own (``csp_update``, ``csp_replace``, ``csp_override``) or a
request that used its nonce is handed to django-csp as before.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponseBase

# What a view's decorators set on its response to change the policy for that response.
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# Answers django-csp leaves without a header while DEBUG is on (the debug pages).
_DEBUG_EXEMPT = (404, 500)
# Each header: its name, the attribute that exempts a response, the setting it reads.
_HEADERS = (
    (HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY", False),
    (HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
)


@cache
def site_policy(*, report_only: bool) -> str:
    """The header django-csp builds from the settings alone ("" when none is set)."""
    return build_policy(report_only=report_only)


def _forget_policy(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        site_policy.cache_clear()


setting_changed.connect(_forget_policy)


def _excluded(request: HttpRequest, setting: str) -> bool:
    policy = getattr(settings, setting, None) or {}
    prefixes = policy.get("EXCLUDE_URL_PREFIXES", None) or ()
    return request.path_info.startswith(tuple(prefixes))


class SitePolicyCSPMiddleware(CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        own_policy = any(getattr(response, name, None) is not None for name in _PER_RESPONSE)
        if own_policy or getattr(request, "_csp_nonce", None) is not None:
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        for header, exempt, setting, report_only in _HEADERS:
            policy = site_policy(report_only=report_only)
            if not policy or header in response or getattr(response, exempt, False) is not False:
                continue
            if not _excluded(request, setting):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
