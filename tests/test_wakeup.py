import time

import pytest

from comments import tasks
from comments.models import Comment
from comments.services import comment_create
from reex import wakeup
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _long_window(settings):
    """A window long enough that a slow machine still saves every row inside it."""
    settings.REEX_WAKE_SECONDS = 2


@pytest.fixture
def published(mocker):
    return mocker.patch.object(tasks.moderate_comment, "delay")


def submit(article, n: int = 0) -> Comment:
    return comment_create(
        article=article,
        author_name="Ann",
        author_email=f"ann{n}@example.org",
        body=f"A considered remark number {n} about rare earths.",
        ip=f"192.0.2.{n + 1}",
    )


def submit_committed(article, captured, n: int = 0) -> Comment:
    with captured(execute=True):
        return submit(article, n)


def test_comments_saved_while_a_wake_up_is_under_way_publish_nothing(
    published, django_capture_on_commit_callbacks
):
    article = ArticleFactory.create()

    for n in range(3):
        submit_committed(article, django_capture_on_commit_callbacks, n)

    assert published.call_count == 1


def test_without_an_interval_every_comment_publishes_its_task(
    published, settings, django_capture_on_commit_callbacks
):
    settings.REEX_WAKE_SECONDS = 0
    article = ArticleFactory.create()

    for n in range(3):
        submit_committed(article, django_capture_on_commit_callbacks, n)

    assert published.call_count == 3


def test_the_woken_task_decides_the_comments_that_did_not_publish(
    published, django_capture_on_commit_callbacks
):
    article = ArticleFactory.create()
    first = submit_committed(article, django_capture_on_commit_callbacks, 0)
    later = [submit_committed(article, django_capture_on_commit_callbacks, n) for n in (1, 2)]
    Comment.objects.filter(pk=first.pk).update(status=Comment.Status.TRASH)  # its own: gone

    tasks.moderate_comment(first.pk)

    assert published.call_count == 1
    assert all(
        c.checked_at is not None for c in Comment.objects.filter(pk__in=[c.pk for c in later])
    )


def test_once_the_woken_task_is_done_the_next_comment_publishes_again(
    published, django_capture_on_commit_callbacks
):
    article = ArticleFactory.create()
    first = submit_committed(article, django_capture_on_commit_callbacks, 0)
    tasks.moderate_comment(first.pk)

    submit_committed(article, django_capture_on_commit_callbacks, 1)

    assert published.call_count == 2


def test_a_refused_publish_leaves_the_next_comment_free_to_try(
    mocker, django_capture_on_commit_callbacks
):
    refused = mocker.patch("reex.wakeup.enqueue", return_value=False)
    article = ArticleFactory.create()

    submit_committed(article, django_capture_on_commit_callbacks, 0)
    submit_committed(article, django_capture_on_commit_callbacks, 1)

    assert refused.call_count == 2


def test_on_redis_a_window_lasts_the_interval_not_a_whole_second(redis_cache, published, settings):
    settings.REEX_WAKE_SECONDS = 0.05

    assert wakeup.wake(tasks.moderate_comment, 1, name="moderation")
    assert wakeup.wake(tasks.moderate_comment, 2, name="moderation")
    time.sleep(0.1)
    assert wakeup.wake(tasks.moderate_comment, 3, name="moderation")

    assert [call.args for call in published.call_args_list] == [(1,), (3,)]


def test_on_redis_the_woken_task_closes_its_window(redis_cache, published, settings):
    settings.REEX_WAKE_SECONDS = 0.3
    wakeup.wake(tasks.moderate_comment, 1, name="moderation")

    wakeup.drain_until_quiet("moderation", lambda: 0)

    assert wakeup.wake(tasks.moderate_comment, 2, name="moderation")
    assert published.call_count == 2


def _redis_sets(mocker):
    return mocker.spy(wakeup, "_set_unless_open")


def test_on_redis_a_window_seen_open_is_not_asked_again(redis_cache, published, mocker):
    asked = _redis_sets(mocker)

    for n in range(3):
        assert wakeup.wake(tasks.moderate_comment, n, name="moderation")

    assert asked.call_count == 1
    assert published.call_count == 1


def test_on_redis_another_process_window_is_learnt_from_its_deadline(
    redis_cache, published, mocker, settings
):
    found = wakeup._redis(wakeup.PREFIX + "moderation")
    assert found is not None
    backend_client, key = found
    backend_client.set(key, repr(time.time() + settings.REEX_WAKE_SECONDS), px=2000)
    asked = _redis_sets(mocker)

    for n in range(3):
        assert wakeup.wake(tasks.moderate_comment, n, name="moderation")

    assert asked.call_count == 1
    assert published.call_count == 0


def test_on_redis_a_window_near_its_deadline_is_asked_again(redis_cache, published, mocker):
    found = wakeup._redis(wakeup.PREFIX + "moderation")
    assert found is not None
    backend_client, key = found
    backend_client.set(key, repr(time.time() + 0.5), px=2000)  # within the margin of 2 s
    asked = _redis_sets(mocker)

    for n in range(2):
        wakeup.wake(tasks.moderate_comment, n, name="moderation")

    assert asked.call_count == 2
    assert published.call_count == 0


def test_on_redis_a_task_never_closes_a_window_opened_after_its_own(redis_cache, settings):
    """The task read window W1; W1 expired and a request opened W2 before the task's close:
    W2 stays (its opener's process skips asking Redis while it trusts W2)."""
    found = wakeup._redis(wakeup.PREFIX + "moderation")
    assert found is not None
    client, key = found
    client.set(key, repr(time.time() + 0.01), px=10)
    read = wakeup._window_value("moderation")
    time.sleep(0.05)  # W1 expires
    client.set(key, repr(time.time() + 2), px=2000)  # W2, opened by another request

    wakeup._window_close("moderation", only=read)

    assert client.get(key) is not None


def test_on_redis_a_failing_woken_task_hands_over_and_leaves_the_window_open(
    redis_cache, published, mocker
):
    handed = mocker.patch.object(wakeup, "enqueue", return_value=True)
    assert wakeup._window_open("moderation", deadline=time.time() + 2, seconds=2)

    with (
        pytest.raises(RuntimeError),
        wakeup.handed_over_on_failure("moderation", tasks.moderate_comment),
    ):
        raise RuntimeError("the check failed")

    assert handed.call_count == 1
    assert wakeup._window_value("moderation") is not None  # requests that saw it rely on it
