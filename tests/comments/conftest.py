import pytest
from rest_framework.test import APIClient

from comments.spam import versions as spamfilter
from tests.factories import UserFactory, make_moderator


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def moderator(db):
    return make_moderator(username="mod")


@pytest.fixture
def plain_user(db):
    return UserFactory(username="plain")


@pytest.fixture
def no_delay(mocker):
    """Keep tasks from being queued (the memory broker would accept them silently)."""
    return {
        "moderate": mocker.patch("comments.tasks.moderate_comment.delay"),
        "notify": mocker.patch("comments.tasks.send_notification.delay"),
    }


@pytest.fixture(autouse=True)
def _fresh_spam_model():
    """Each test starts with no loaded classifier (the loader is per process)."""
    spamfilter.spam_model_forget()
    yield
    spamfilter.spam_model_forget()
