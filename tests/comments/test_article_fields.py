"""An article's summary, image and author: through the API, in admin, in the schema."""

from http import HTTPStatus

import pytest

from comments.models import Article
from tests.comments.factories import ArticleFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/articles/rare/"
ARTICLE = {
    "title": "Rare earths",
    "url": "https://news.example.org/rare/",
    "published_at": "2025-01-02T03:04:05Z",
}
EXTRAS = {
    "summary": "China's exports of rare earth magnets fell 12% in May.",
    "image_url": "https://news.example.org/wp-content/uploads/magnets.jpg",
    "author": "Ann Lee",
}


@pytest.fixture
def editor(api_client, moderator):
    api_client.force_authenticate(moderator)
    return api_client


def test_put_saves_the_summary_image_and_author(editor):
    response = editor.put(URL, {**ARTICLE, **EXTRAS}, format="json")
    assert response.status_code == HTTPStatus.CREATED
    article = Article.objects.get(key="rare")
    assert (article.summary, article.image_url, article.author) == tuple(EXTRAS.values())
    assert {name: response.json()[name] for name in EXTRAS} == EXTRAS


def test_put_without_them_keeps_what_the_article_has(editor):
    ArticleFactory.create(key="rare", **EXTRAS)
    response = editor.put(URL, {**ARTICLE, "title": "Rare earths, again"}, format="json")
    assert response.status_code == HTTPStatus.OK
    article = Article.objects.get(key="rare")
    assert (article.title, article.summary, article.author) == (
        "Rare earths, again",
        EXTRAS["summary"],
        EXTRAS["author"],
    )


def test_put_with_empty_strings_clears_them(editor):
    ArticleFactory.create(key="rare", **EXTRAS)
    blank = dict.fromkeys(EXTRAS, "")
    assert editor.put(URL, {**ARTICLE, **blank}, format="json").status_code == HTTPStatus.OK
    article = Article.objects.get(key="rare")
    assert (article.summary, article.image_url, article.author) == ("", "", "")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("image_url", "ftp://news.example.org/magnets.jpg"),
        ("image_url", "javascript:alert(1)"),
        ("image_url", "https://news.example.org/" + "a" * 500),
        ("url", "ftp://news.example.org/rare/"),
        ("summary", "x" * 1001),
        ("summary", "bell \x07 inside"),
        ("author", "a" * 201),
        ("author", "Ann\nLee"),
    ],
)
def test_put_refuses_a_bad_field_by_name_and_writes_nothing(editor, field, value):
    response = editor.put(URL, {**ARTICLE, **EXTRAS, field: value}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == [field]
    assert not Article.objects.exists()


def test_put_refuses_wrong_types_per_field(editor):
    response = editor.put(URL, {**ARTICLE, "summary": ["a"], "author": {"x": 1}}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"summary", "author"}


def test_the_schema_shows_the_new_fields(api_client):
    schemas = api_client.get("/api/schema/?format=json").json()["components"]["schemas"]
    for name in ("summary", "image_url", "author"):
        assert name in schemas["ArticleWriteRequest"]["properties"]
        assert name in schemas["Article"]["properties"]


def test_admin_edits_the_new_fields(client, moderator):
    article = ArticleFactory.create(key="rare")
    client.force_login(moderator)
    page = client.get(f"/admin/comments/article/{article.pk}/change/")
    for name in ("summary", "image_url", "author"):
        assert f'name="{name}"' in page.content.decode()
    response = client.post(
        f"/admin/comments/article/{article.pk}/change/",
        {
            "key": "rare",
            "title": article.title,
            "url": article.url,
            **EXTRAS,
            "published_at_0": "2025-01-02",
            "published_at_1": "03:04:05",
            "comments_open": "on",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    article.refresh_from_db()
    assert (article.summary, article.image_url, article.author) == tuple(EXTRAS.values())


def test_admin_refuses_an_image_that_is_not_http(client, moderator):
    article = ArticleFactory.create(key="rare")
    client.force_login(moderator)
    response = client.post(
        f"/admin/comments/article/{article.pk}/change/",
        {
            "key": "rare",
            "title": article.title,
            "image_url": "javascript:alert(1)",
            "published_at_0": "2025-01-02",
            "published_at_1": "03:04:05",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "Enter a valid http:// or https:// address." in response.content.decode()
    article.refresh_from_db()
    assert article.image_url == ""
