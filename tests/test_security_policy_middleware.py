"""The site-wide CSP built once answers the same headers as django-csp's middleware."""

from typing import Any

import pytest
from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from reex.security_policy import SitePolicyCSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
REPORT_ONLY = {"DIRECTIVES": {"default-src": [NONE], "report-uri": "/csp-report/"}}


def _answer(middleware_class, *, path, status, marks, use_nonce, preset=None):
    request = RequestFactory().get(path)
    response = HttpResponse(status=status)
    if preset is not None:
        response["Content-Security-Policy"] = preset
    for name, value in marks.items():
        setattr(response, name, value)
    middleware = middleware_class(lambda request: response)
    middleware.process_request(request)
    if use_nonce:
        str(request.csp_nonce)  # type: ignore[attr-defined]
    answered = middleware.process_response(request, response)
    headers = {name: answered.get(name) for name in HEADERS}
    nonce_after = getattr(request, "_csp_nonce", None)
    return headers, nonce_after


CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "updated": {"marks": {"_csp_update": {"style-src": [UNSAFE_INLINE]}}},
    "replaced": {"marks": {"_csp_replace": {"img-src": [SELF, "https:"]}}},
    "configured": {"marks": {"_csp_config": {"default-src": [SELF]}}},
    "exempt": {"marks": {"_csp_exempt": True}},
    "exempt report-only": {"marks": {"_csp_exempt_ro": True}},
    "header already set": {"preset": "default-src 'none'"},
    "nonce used": {"use_nonce": True},
    "not found": {"status": 404},
    "server error": {"status": 500},
}


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "policy_settings",
    [
        {},
        {"CONTENT_SECURITY_POLICY_REPORT_ONLY": REPORT_ONLY},
        {"CONTENT_SECURITY_POLICY": None, "CONTENT_SECURITY_POLICY_REPORT_ONLY": REPORT_ONLY},
        {"CONTENT_SECURITY_POLICY_REPORT_ONLY": {**REPORT_ONLY, "EXCLUDE_URL_PREFIXES": ["/ap"]}},
    ],
    ids=["site policy", "with report-only", "report-only alone", "report-only excluded"],
)
@pytest.mark.parametrize("case", list(CASES))
def test_headers_match_django_csp(settings, case, policy_settings, debug):
    settings.DEBUG = debug
    for name, value in policy_settings.items():
        setattr(settings, name, value)
    spec = CASES[case]
    kwargs = {
        "path": "/api/v1/articles/x/comments/",
        "status": spec.get("status", 202),
        "marks": spec.get("marks", {}),
        "use_nonce": spec.get("use_nonce", False),
        "preset": spec.get("preset"),
    }
    ours = _answer(SitePolicyCSPMiddleware, **kwargs)
    theirs = _answer(CSPMiddleware, **kwargs)
    assert ours[0] == theirs[0]
    assert (ours[1] is None) == (theirs[1] is None)
    if case == "plain" and not policy_settings:
        assert ours[0]["Content-Security-Policy"]  # the comparison compared a header


def test_a_changed_setting_is_not_answered_from_the_old_policy():
    first = _answer(SitePolicyCSPMiddleware, path="/", status=200, marks={}, use_nonce=False)
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": [NONE]}}):
        changed = _answer(SitePolicyCSPMiddleware, path="/", status=200, marks={}, use_nonce=False)
    assert changed[0]["Content-Security-Policy"] == "default-src 'none'"
    again = _answer(SitePolicyCSPMiddleware, path="/", status=200, marks={}, use_nonce=False)
    assert again[0] == first[0] != changed[0]


def test_a_nonce_asked_for_after_the_header_is_refused():
    from csp.exceptions import CSPNonceError

    request = RequestFactory().get("/")
    middleware = SitePolicyCSPMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    middleware.process_response(request, HttpResponse())
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]
