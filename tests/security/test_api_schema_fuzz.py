"""Schemathesis against the project's own OpenAPI schema, in process, on the test database.

Every operation of ``/api/schema/`` is fuzzed with a small, derandomised budget: no answer
may be a 5xx, and every answer (status, content type, headers, body) must match what the
schema promises. Authenticated operations run as a moderator with a DRF token.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth.models import Permission, User
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from comments.models import Article, Comment
from reex.wsgi import application
from tests.factories import ApprovedCommentFactory

pytestmark = pytest.mark.django_db(transaction=False)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


# Loaded at collection through the real endpoint (building it touches no table).
# schemathesis.pytest.from_fixture would defer this, but it reads a private pytest
# attribute that pytest 9 no longer has.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def published_comment(article: Article) -> Comment:
    return ApprovedCommentFactory.create(article=article)


@pytest.fixture(autouse=True)
def _integration_permissions(moderator: User) -> None:
    """Let the token reach every operation: moderation, articles and subscribers."""
    wanted = [("comments", "change_article"), ("subscriptions", "view_subscriber")]
    for app_label, codename in wanted:
        moderator.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


@schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(
    case, wsgi_app: WSGIHandler, moderator_token: str, published_comment: Comment
) -> None:
    headers = {"Authorization": f"Token {moderator_token}"}
    case.call_and_validate(app=wsgi_app, headers=headers, checks=CHECKS)
    # Random keys and ids almost never name a row: send the same case again at real ones,
    # so that the answers for existing articles and comments are checked too.
    real = {"key": published_comment.article.key, "comment_id": published_comment.pk}
    if case.path_parameters and real.keys() & case.path_parameters.keys():
        for name in real.keys() & case.path_parameters.keys():
            case.path_parameters[name] = real[name]
        case.call_and_validate(app=wsgi_app, headers=headers, checks=CHECKS)


@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_an_anonymous_caller_as_its_schema_says(
    case, wsgi_app: WSGIHandler, published_comment: Comment
) -> None:
    case.call_and_validate(app=wsgi_app, checks=CHECKS)
