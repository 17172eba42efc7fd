"""embed.js and embed.css: their size budget, how they are served, and the API calls they make
from another origin (CORS without cookies, Retry-After readable)."""

import gzip
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.factories import ApprovedCommentFactory, ArticleFactory

PUBLIC = Path(django_settings.WHITENOISE_ROOT)
SITE = "https://news.example.org"
BUDGET_BYTES = 15 * 1024


@pytest.fixture
def cors_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [SITE]


def test_the_script_and_its_stylesheet_fit_in_15_kb_gzipped():
    size = sum(
        len(gzip.compress((PUBLIC / name).read_bytes(), compresslevel=9))
        for name in ("embed.js", "embed.css")
    )
    assert size <= BUDGET_BYTES, f"{size} bytes gzipped, over the {BUDGET_BYTES} budget"


def test_the_script_uses_no_eval_no_inline_style_and_no_cookie():
    source = (PUBLIC / "embed.js").read_text()
    for forbidden in (
        "eval(",
        "new Function",
        "document.cookie",
        "style=",
        ".style.",
        'setAttribute("style',
    ):
        assert forbidden not in source
    assert 'credentials: "omit"' in source


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/embed.js", "text/javascript"), ("/embed.css", "text/css")],
)
def test_they_are_served_at_the_root_to_any_origin(client, path, content_type):
    response = client.get(path, headers={"Origin": SITE})

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith(content_type)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response


@pytest.mark.django_db
def test_a_configured_origin_may_post_a_comment_without_credentials(client, cors_origin):
    ArticleFactory.create(key="p1")

    response = client.options(
        "/api/v1/articles/p1/comments/",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
def test_a_throttled_post_lets_the_page_read_retry_after(client, cors_origin, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 60
    ArticleFactory.create(key="p1")
    payload = {"author_name": "Ann", "author_email": "ann@example.org", "body": "One."}
    url = "/api/v1/articles/p1/comments/"
    client.post(url, payload, content_type="application/json", headers={"Origin": SITE})

    response = client.post(
        url, {**payload, "body": "Two."}, content_type="application/json", headers={"Origin": SITE}
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "retry-after" in response["Access-Control-Expose-Headers"].lower()
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_the_comment_counts_of_several_articles_come_in_one_answer(client, cors_origin):
    ApprovedCommentFactory.create_batch(3, article=ArticleFactory.create(key="a"))
    ArticleFactory.create(key="b")

    response = client.get("/api/v1/comment-counts/", {"articles": "a,b,unknown,a"})

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"a": 3, "b": 0, "unknown": 0}


@pytest.mark.django_db
@pytest.mark.parametrize("articles", ["", ",", "a b", ",".join(f"k{n}" for n in range(51))])
def test_comment_counts_refuse_missing_malformed_or_too_many_keys(client, articles):
    response = client.get("/api/v1/comment-counts/", {"articles": articles})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "articles" in response.json()


def test_the_consent_text_is_public(client, cors_origin):
    from subscriptions.consent import CURRENT

    response = client.get("/api/v1/subscriptions/consent/", headers={"Origin": SITE})

    assert response.json() == {"version": CURRENT.version, "text": CURRENT.text}
    assert response["Access-Control-Allow-Origin"] == SITE
