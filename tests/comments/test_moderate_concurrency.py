"""Moderation tasks running at once take disjoint batches: a claimed comment is skipped."""

import pytest

from comments.models import Comment
from comments.services import comment_moderate
from tests.factories import CommentFactory
from tests.support.locks import row_locked

Status = Comment.Status


@pytest.mark.postgres_only(reason="row locks; SQLite serialises every writer anyway")
@pytest.mark.django_db(transaction=True)
def test_a_comment_another_transaction_holds_is_skipped_not_waited_for(no_delay):
    held, other = CommentFactory.create_batch(2)

    with row_locked(Comment.objects.filter(pk=held.pk)):
        assert comment_moderate(comment_id=held.pk) is None
        assert comment_moderate(comment_id=other.pk) == other

    held.refresh_from_db()
    other.refresh_from_db()
    assert (held.status, held.checked_at) == (Status.PENDING, None)
    assert other.status == Status.APPROVED
