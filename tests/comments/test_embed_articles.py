"""A reader's first comment from the embed creates an unknown article of the site's own."""

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from comments import services
from comments.feed_poll import FeedItem
from comments.models import Article, Comment
from comments.site_urls import site_url_canonical, title_from_url
from tests.factories import ArticleFactory
from tests.support.locks import held_in_transaction, started, wait_for_lock_waiters

SITE = "https://news.example.org/"
VALID = {"author_name": "Ann", "author_email": "ann@example.org", "body": "First!"}


@pytest.fixture(autouse=True)
def _site_urls(settings):
    settings.REEX_SITE_URLS = [SITE, "https://blog.example.org/news"]


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.org/2026/05/rare-earths/",
        "https://news.example.org/",
        "https://NEWS.example.org/a/",
        "https://news.example.org:443/a/",
        "https://blog.example.org/news",
        "https://blog.example.org/news/",
        "https://blog.example.org/news/today/",
    ],
)
def test_a_page_under_a_site_prefix_is_the_sites(url):
    assert site_url_canonical(url) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://news.example.org/a/",  # another scheme
        "https://news.example.org:8443/a/",  # another port
        "https://news.example.org.evil.test/a/",  # the host as a prefix of another
        "https://evil.test/news.example.org/",
        "https://evil.test/?next=https://news.example.org/",
        "https://user@news.example.org/a/",  # credentials
        "https://blog.example.org/newsletter/",  # a prefix of a segment is not the segment
        "https://blog.example.org/",
        "https://blog.example.org/news/../admin/",
        "https://blog.example.org/news/%2e%2e/admin/",
        "https://blog.example.org/news/%2E%2e/admin/",
        "https://blog.example.org/news/..%2fadmin/",
        "https://blog.example.org/news/./",
        "javascript:alert(1)//news.example.org/",
        "//news.example.org/a/",
        "news.example.org/a/",
        "https://news.example.org:99999/a/",
        "",
        "https://news.example.org/" + "a" * 500,
    ],
)
def test_anything_else_is_not(url):
    assert site_url_canonical(url) is None


def test_the_query_and_fragment_are_dropped_and_do_not_count_for_the_prefix():
    assert (
        site_url_canonical("https://blog.example.org/news/x/?utm_source=mail#comments")
        == "https://blog.example.org/news/x/"
    )
    assert site_url_canonical("https://blog.example.org/?p=/news/") is None


def test_no_site_urls_means_no_page_is_the_sites(settings):
    settings.REEX_SITE_URLS = []
    assert site_url_canonical("https://news.example.org/a/") is None


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://news.example.org/2026/05/rare-earth-prices-rise/", "Rare earth prices rise"),
        ("https://news.example.org/lynas_update.html", "Lynas update"),
        ("https://news.example.org/caf%C3%A9-news/", "Café news"),
        ("https://news.example.org/", "Article 42"),
    ],
)
def test_the_guessed_title_is_the_last_path_segment_made_readable(url, title):
    assert title_from_url(url, fallback="Article 42") == title


# --- the API ---------------------------------------------------------------------------


def post(key: str, **extra):
    return APIClient().post(f"/api/v1/articles/{key}/comments/", {**VALID, **extra}, format="json")


@pytest.mark.django_db
def test_a_first_comment_from_a_site_page_creates_the_article(no_delay):
    response = post(
        "4242",
        article_url="https://news.example.org/2026/05/rare-earth-prices-rise/?utm_source=x",
        article_title="<script>Totally official title</script>",
    )

    assert response.status_code == HTTPStatus.ACCEPTED
    article = Article.objects.get(key="4242")
    assert article.title == "Rare earth prices rise"
    assert article.url == "https://news.example.org/2026/05/rare-earth-prices-rise/"
    assert article.title_wanted is True
    assert article.comments_open is True
    assert Comment.objects.get().article == article


@pytest.mark.django_db
def test_the_browsers_title_is_passed_on_as_a_hint_only(
    no_delay, mocker, django_capture_on_commit_callbacks
):
    wanted = mocker.patch("comments.services.site_articles.article_title_wanted")

    with django_capture_on_commit_callbacks(execute=True):
        post("4242", article_url="https://news.example.org/a/", article_title="Claimed")

    article = Article.objects.get(key="4242")
    wanted.assert_called_once_with(article=article, title_hint="Claimed")
    assert article.title == "A"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["", "https://evil.test/a/", "http://news.example.org/a/", "https://news.example.org/../x"],
)
def test_an_unknown_article_from_any_other_page_stays_a_404(no_delay, url):
    response = post("4242", article_url=url)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Article.objects.exists()
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_a_known_article_keeps_its_title_whatever_the_page_says(no_delay):
    ArticleFactory.create(key="4242", title="The real title", url="https://news.example.org/r/")

    response = post("4242", article_url="https://news.example.org/other/", article_title="Fake")

    assert response.status_code == HTTPStatus.ACCEPTED
    article = Article.objects.get(key="4242")
    assert (article.title, article.url, article.title_wanted) == (
        "The real title",
        "https://news.example.org/r/",
        False,
    )


@pytest.mark.django_db
def test_a_refused_first_comment_creates_no_article(no_delay):
    response = post("4242", article_url="https://news.example.org/a/", author_email="nope")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()) == {"author_email"}
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_key_too_long_for_an_article_is_a_field_error(no_delay):
    response = post("k" * 201, article_url="https://news.example.org/a/")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "key" in response.json()


@pytest.mark.django_db
def test_setting_the_title_through_the_api_clears_the_mark(no_delay):
    post("4242", article_url="https://news.example.org/a/")
    article = Article.objects.get(key="4242")

    services.article_upsert(
        key="4242",
        title="Real",
        url=article.url,
        published_at=article.published_at,
        comments_open=True,
    )

    article.refresh_from_db()
    assert (article.title, article.title_wanted) == ("Real", False)


@pytest.mark.postgres_only(reason="row locks; SQLite serialises every writer anyway")
@pytest.mark.django_db(transaction=True)
def test_two_first_comments_at_once_create_one_article(mocker):
    mocker.patch("comments.tasks.moderate_comment.delay")

    def submit(email: str) -> Comment:
        return services.comment_submit(
            article_key="4242",
            article_url="https://news.example.org/a/",
            author_name="Ann",
            author_email=email,
            body=f"First from {email}",
        )

    # The first holds its new, uncommitted article; the second waits on the key's index.
    with held_in_transaction(lambda: submit("ann@example.org")):
        [second] = started(lambda: submit("bob@example.org"))
        wait_for_lock_waiters(1, message="the second first comment never waited")
    second.outcome()

    assert Article.objects.filter(key="4242").count() == 1
    assert Comment.objects.filter(article__key="4242").count() == 2


@pytest.mark.django_db
def test_an_article_created_from_the_embed_asks_the_feed_for_its_title(mocker, settings):
    settings.REEX_FEED_URLS = ["https://news.example.org/feed/"]
    poll = mocker.patch("comments.tasks.poll_feeds.delay")
    article = Article.objects.create(key="4242", title="A", title_wanted=True)

    services.article_title_wanted(article=article, title_hint="Claimed")

    poll.assert_called_once_with()


@pytest.mark.django_db
def test_without_a_feed_nothing_is_queued_for_the_title(mocker, settings):
    settings.REEX_FEED_URLS = []
    poll = mocker.patch("comments.tasks.poll_feeds.delay")

    services.article_title_wanted(article=Article.objects.create(key="4242", title="A"))

    poll.assert_not_called()


@pytest.mark.django_db
def test_the_feeds_title_replaces_the_guessed_one():
    Article.objects.create(
        key="4242", title="A", url="https://news.example.org/a/", title_wanted=True
    )
    item = FeedItem(key="4242", title="Rare earth prices rise", url="https://news.example.org/a/")

    services.article_feed_upsert(item=item)

    article = Article.objects.get(key="4242")
    assert (article.title, article.title_wanted) == ("Rare earth prices rise", False)
