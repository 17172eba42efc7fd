"""Moderation tasks running at once take disjoint batches: a claimed comment is skipped."""

import threading

import pytest
from django.db import connection, transaction

from comments.models import Comment
from comments.services import comment_moderate
from tests.comments.factories import CommentFactory

Status = Comment.Status


@pytest.mark.django_db(transaction=True)
def test_a_comment_another_transaction_holds_is_skipped_not_waited_for(no_delay):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (SQLite serialises every writer anyway)")
    held, other = CommentFactory.create_batch(2)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Comment.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        assert comment_moderate(comment_id=held.pk) is None
        assert comment_moderate(comment_id=other.pk) == other
    finally:
        release.set()
        holder.join(timeout=10)

    held.refresh_from_db()
    other.refresh_from_db()
    assert (held.status, held.checked_at) == (Status.PENDING, None)
    assert other.status == Status.APPROVED
