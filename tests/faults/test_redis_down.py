"""Redis down: the cache fails open and queueing after commit leaves the work to the sweeps."""

import logging

import pytest
from kombu.exceptions import OperationalError

from comments.services import comment_create
from devstack.ports import free_port
from reex.cache import FailOpenRedisCache
from reex.enqueue import enqueue_on_commit
from tests.factories import ArticleFactory


@pytest.fixture
def dead_cache() -> FailOpenRedisCache:
    location = f"redis://127.0.0.1:{free_port()}/0"
    return FailOpenRedisCache(location, {"OPTIONS": {"socket_connect_timeout": 1}})


def test_a_read_from_a_cache_whose_redis_is_down_is_a_miss(dead_cache):
    assert dead_cache.get("throttle", default="miss") == "miss"
    assert dead_cache.get_many(["a", "b"]) == {}
    assert dead_cache.get_values(["a", "b"]) == [None, None]
    assert dead_cache.has_key("a") is False


def test_writes_to_a_cache_whose_redis_is_down_are_dropped(dead_cache):
    dead_cache.set("a", 1)
    assert dead_cache.add("a", 1) is False
    assert dead_cache.delete("a") is False
    assert dead_cache.set_many({"a": 1}) == ["a"]


def test_the_cache_still_raises_for_a_programming_error(dead_cache):
    with pytest.raises(TypeError):
        dead_cache.get()


@pytest.mark.django_db
def test_a_comment_is_saved_when_the_broker_is_down(
    django_capture_on_commit_callbacks, mocker, caplog
):
    delay = mocker.patch(
        "comments.tasks.moderate_comment.delay", side_effect=OperationalError("refused")
    )
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        comment = comment_create(
            article=ArticleFactory.create(),
            author_name="Ann",
            author_email="a@example.org",
            body="hi",
        )

    delay.assert_called_once_with(comment.pk)
    comment.refresh_from_db()
    assert comment.checked_at is None  # left for comment_requeue_unchecked
    assert "left to the sweep" in caplog.text


@pytest.mark.django_db
def test_an_error_other_than_the_broker_being_down_is_not_swallowed(
    django_capture_on_commit_callbacks, mocker
):
    task = mocker.Mock(name="task", **{"delay.side_effect": RuntimeError("bug")})
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(task, 1)
