"""Parallel submissions wait for the article's lock: the second one sees what the first saved."""

from functools import partial
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from comments import services
from comments.models import Article, Comment
from tests.factories import ArticleFactory
from tests.support.locks import (
    held_in_transaction,
    row_locked,
    started,
    wait_for_lock_waiters,
)

ROW_LOCKS = "row locks; SQLite serialises every writer anyway"


def _in_parallel_behind_the_article_lock(article: Article, *submits) -> list:
    """Start ``submits`` while another transaction holds the article; release it once all
    of them wait for it, so none can have checked for repeats before the others wait."""
    with row_locked(Article.objects.filter(pk=article.pk)):
        threads = started(*submits)
        wait_for_lock_waiters(len(submits), message="the submissions never waited")
    return [thread.outcome() for thread in threads]


def _submit(article: Article, body: str):
    def submit() -> str:
        try:
            services.comment_create(
                article=article, author_name="Ann", author_email="ann@example.org", body=body
            )
        except services.CommentError as error:
            return type(error).__name__
        return "saved"

    return submit


@pytest.mark.postgres_only(reason=ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_parallel_duplicates_are_saved_once(mocker):
    article = ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")
    submit = _submit(article, "Posted twice at once.")

    results = _in_parallel_behind_the_article_lock(article, submit, submit)

    assert sorted(results) == sorted([services.DuplicateComment.__name__, "saved"])
    assert Comment.objects.filter(article=article).count() == 1


@pytest.mark.postgres_only(reason=ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_parallel_posts_inside_the_flood_interval_are_saved_once(mocker, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 60
    article = ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")

    results = _in_parallel_behind_the_article_lock(
        article, _submit(article, "First of two."), _submit(article, "Second of two.")
    )

    assert sorted(results) == sorted([services.CommentFlood.__name__, "saved"])
    assert Comment.objects.filter(article=article).count() == 1


@pytest.mark.postgres_only(reason=ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_parallel_duplicates_over_the_api_are_saved_once(mocker):
    article = ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")
    payload = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Twice at once."}
    url = f"/api/v1/articles/{article.key}/comments/"

    def submit() -> int:
        return APIClient().post(url, payload, format="json").status_code

    statuses = _in_parallel_behind_the_article_lock(article, submit, submit)

    assert sorted(statuses) == [HTTPStatus.ACCEPTED, HTTPStatus.CONFLICT]
    assert Comment.objects.filter(article=article).count() == 1


def _posted(article: Article, body: str, email: str = "ann@example.org", ip: str | None = None):
    def post() -> str:
        try:
            services.comment_create(
                article=article, author_name="Ann", author_email=email, body=body, ip=ip
            )
        except services.CommentError as error:
            return type(error).__name__
        return "saved"

    return post


@pytest.mark.postgres_only(reason=ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_parallel_posts_from_one_address_to_two_articles_are_saved_once(mocker, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 60
    first, second = ArticleFactory.create(), ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")

    # The first post stays uncommitted while the second one runs on its own connection.
    with held_in_transaction(_posted(first, "On the first article.")):
        [other] = started(_posted(second, "On the second article."))
        wait_for_lock_waiters(1, message="the second post did not wait for the first")

    assert other.outcome() == services.CommentFlood.__name__
    assert Comment.objects.count() == 1


@pytest.mark.postgres_only(reason=ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_parallel_posts_from_one_ip_to_two_articles_are_saved_once(mocker, settings):
    settings.REEX_COMMENT_FLOOD_SECONDS = 60
    first, second = ArticleFactory.create(), ArticleFactory.create()
    mocker.patch("comments.tasks.moderate_comment.delay")
    ip = "198.51.100.9"

    with held_in_transaction(_posted(first, "One.", email="a@example.org", ip=ip)):
        [other] = started(_posted(second, "Two.", email="b@example.org", ip=ip))
        wait_for_lock_waiters(1, message="the second post did not wait for the first")

    assert other.outcome() == services.CommentFlood.__name__
    assert Comment.objects.count() == 1


@pytest.mark.postgres_only(reason=ROW_LOCKS)
@pytest.mark.django_db(transaction=True)
def test_a_reply_sent_while_its_parent_is_deleted_by_its_author_is_refused(mocker):
    mocker.patch("comments.tasks.moderate_comment.delay")
    article = ArticleFactory.create()
    parent = services.comment_create(
        article=article, author_name="Ann", author_email="ann@example.org", body="Mine."
    )
    Comment.objects.filter(pk=parent.pk).update(status=Comment.Status.APPROVED)

    def reply() -> str:
        try:
            services.comment_create(
                article=article,
                author_name="Bob",
                author_email="bob@example.org",
                body="An answer.",
                parent_id=parent.pk,
            )
        except ValidationError as error:
            return ",".join(error.message_dict)
        return "saved"

    deleting = partial(
        services.comment_author_delete, comment_id=parent.pk, token=parent.edit_token
    )
    with held_in_transaction(deleting):
        [replying] = started(reply)
        wait_for_lock_waiters(1, message="the reply did not wait for the author's delete")

    assert replying.outcome() == "parent"
    assert not Comment.objects.exists()
