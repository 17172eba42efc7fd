"""Acting from a held-comment email's link: once, as the moderator it was sent to."""

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction

from comments.models import Comment, ModerationLinkUse
from comments.services.decisions import comment_moderator_action
from comments.services.errors import CommentError
from comments.tokens import ModerationLink


class LinkUsed(CommentError):
    pass


class LinkNotAllowed(CommentError):
    pass


class AlreadyDecided(CommentError):
    pass


def _moderator(link: ModerationLink) -> AbstractBaseUser:
    user = get_user_model().objects.filter(pk=link.user_id, is_active=True).first()
    if user is None or not user.has_perm("comments.moderate_comment"):
        raise LinkNotAllowed("The moderator this link was sent to may no longer moderate.")
    return user


def _refuse_if_spent(link: ModerationLink, comment: Comment | None) -> Comment:
    if ModerationLinkUse.objects.filter(nonce=link.nonce).exists():
        raise LinkUsed("This link was already used.")
    if comment is None or comment.status != Comment.Status.PENDING:
        state = "deleted" if comment is None else comment.get_status_display().lower()
        raise AlreadyDecided(f"This comment was already decided (it is now {state}).")
    return comment


def moderation_link_check(*, link: ModerationLink) -> Comment:
    """Return the comment a link would act on; raise the refusal if it may not act."""
    _moderator(link)
    comment = Comment.objects.select_related("article").filter(pk=link.comment_id).first()
    return _refuse_if_spent(link, comment)


@transaction.atomic
def moderation_link_use(*, link: ModerationLink) -> Comment:
    """Take the link's action on its comment as its moderator, once; audited as them.

    The use is recorded under the comment's lock, so a second use, even a concurrent
    one, is refused; the unique nonce is the backstop.
    """
    user = _moderator(link)
    locked = Comment.objects.select_for_update().filter(pk=link.comment_id).first()
    comment = _refuse_if_spent(link, locked)
    try:
        with transaction.atomic():
            ModerationLinkUse.objects.create(
                nonce=link.nonce, comment=comment, user_id=user.pk, action=link.action
            )
    except IntegrityError as error:
        raise LinkUsed("This link was already used.") from error
    return comment_moderator_action(comment=comment, action=link.action, actor=user)
