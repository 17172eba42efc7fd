"""Feeds in admin: the "Poll the feeds now" button and the feed states."""

from http import HTTPStatus

import pytest
from django.utils import timezone

from comments.models import FeedState
from tests.comments.factories import UserFactory

pytestmark = pytest.mark.django_db
ARTICLES = "/admin/comments/article/"
POLL = "/admin/comments/article/poll-feeds/"
FEED = "https://www.example.com/feed/"


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def poll_delay(mocker):
    return mocker.patch("comments.tasks.poll_feeds.delay")


def test_the_article_list_offers_a_poll_when_feeds_are_set(moderator_client, settings):
    settings.REEX_FEED_URLS = [FEED]
    assert "Poll the feeds now" in moderator_client.get(ARTICLES).content.decode()
    settings.REEX_FEED_URLS = []
    assert "Poll the feeds now" not in moderator_client.get(ARTICLES).content.decode()


def test_the_button_queues_a_poll(moderator_client, settings, poll_delay):
    settings.REEX_FEED_URLS = [FEED]
    response = moderator_client.post(POLL, follow=True)
    poll_delay.assert_called_once_with()
    assert "Feed poll queued" in response.content.decode()


def test_with_the_broker_down_it_says_so(moderator_client, settings, poll_delay):
    settings.REEX_FEED_URLS = [FEED]
    poll_delay.side_effect = OSError("connection refused")
    response = moderator_client.post(POLL, follow=True)
    assert "could not be queued" in response.content.decode()


def test_without_feeds_nothing_is_queued(moderator_client, settings, poll_delay):
    settings.REEX_FEED_URLS = []
    response = moderator_client.post(POLL, follow=True)
    poll_delay.assert_not_called()
    assert "set REEX_FEED_URLS" in response.content.decode()


def test_it_needs_the_change_article_permission(client, settings, poll_delay):
    settings.REEX_FEED_URLS = [FEED]
    client.force_login(UserFactory(username="staff", is_staff=True))
    assert client.post(POLL).status_code == HTTPStatus.FORBIDDEN
    poll_delay.assert_not_called()


def test_it_takes_a_post_only(moderator_client, settings, poll_delay):
    settings.REEX_FEED_URLS = [FEED]
    assert moderator_client.get(POLL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_superusers_see_each_feeds_state(admin_client):
    FeedState.objects.create(url=FEED, last_polled_at=timezone.now(), last_error="HTTP 503")
    page = admin_client.get("/admin/comments/feedstate/").content.decode()
    assert FEED in page and "HTTP 503" in page
