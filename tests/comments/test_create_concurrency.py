"""Two parallel submissions of the same comment: one is saved, the other is a duplicate."""

import contextlib
import threading
from http import HTTPStatus

import pytest
from django.db import connection
from rest_framework.test import APIClient

from comments.models import Comment
from comments.services import submission as services
from tests.comments.factories import ArticleFactory


@pytest.mark.django_db(transaction=True)
def test_parallel_duplicates_are_saved_once(mocker):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises every writer anyway)")
    article = ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")
    # Hold each submission after its duplicate check: without the article lock both
    # pass the check before either saves.
    both_checked = threading.Barrier(2)
    check = services._refuse_repeat

    def check_then_wait(comment: Comment, **kwargs: object) -> None:
        check(comment, **kwargs)  # type: ignore[arg-type]
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)

    mocker.patch.object(services, "_refuse_repeat", check_then_wait)
    results: list[str] = []

    def submit() -> None:
        try:
            services.comment_create(
                article=article,
                author_name="Ann",
                author_email="ann@example.org",
                body="Posted twice at once.",
            )
            results.append("saved")
        except services.DuplicateComment:
            results.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == ["duplicate", "saved"]
    assert Comment.objects.filter(article=article).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_duplicates_over_the_api_are_saved_once(mocker):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises every writer anyway)")
    article = ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")
    both_checked = threading.Barrier(2)
    check = services._refuse_repeat

    def check_then_wait(comment: Comment, **kwargs: object) -> None:
        check(comment, **kwargs)  # type: ignore[arg-type]
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=2)

    mocker.patch.object(services, "_refuse_repeat", check_then_wait)
    payload = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Twice at once."}
    statuses: list[int] = []

    def submit() -> None:
        try:
            url = f"/api/v1/articles/{article.key}/comments/"
            statuses.append(APIClient().post(url, payload, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [HTTPStatus.ACCEPTED, HTTPStatus.CONFLICT]
    assert Comment.objects.filter(article=article).count() == 1
