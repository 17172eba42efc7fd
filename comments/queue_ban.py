"""Banning a comment's author from the moderation queue (key ``b``): the form, and the
service calls it makes. A ban for good asks for a confirmation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from comments import services
from comments.models import Ban, Comment

FOREVER = "forever"
DURATIONS = [("1", "1 day"), ("7", "7 days"), ("30", "30 days"), (FOREVER, "for good")]


class QueueBanForm(forms.Form):
    target = forms.ChoiceField(label="Ban", widget=forms.RadioSelect)
    duration = forms.ChoiceField(choices=DURATIONS, initial="7")
    reason = forms.CharField(max_length=300, required=False)
    spam = forms.BooleanField(label="Mark this comment spam too", required=False, initial=True)
    confirm = forms.BooleanField(label="Yes, ban for good", required=False)

    def __init__(self, *args: Any, comment: Comment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.comment = comment
        choices = [("email", f"the address {comment.author_email}")]
        if comment.ip_address:
            choices.append(("ip", f"the IP address {comment.ip_address}"))
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = choices
        target.initial = "email"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("duration") == FOREVER and not data.get("confirm"):
            self.add_error("confirm", "Tick this to ban for good: it never expires by itself.")
        return data

    def expires_at(self) -> Any:
        duration = self.cleaned_data["duration"]
        return None if duration == FOREVER else timezone.now() + timedelta(days=int(duration))


def queue_ban(*, form: QueueBanForm, actor: Any) -> tuple[Ban, Comment]:
    """Ban the author as the valid ``form`` says and, if asked, mark the comment spam.

    All or nothing; an active ban of the same target is kept as it is. A target the ban
    service refuses raises ValidationError (the view shows it on the form).
    """
    comment, data = form.comment, form.cleaned_data
    with transaction.atomic():
        ban = services.ban_comment_author(
            comment=comment,
            by=data["target"],
            reason=data["reason"],
            expires_at=form.expires_at(),
            created_by=actor,
        )
        if data["spam"]:
            comment = services.comment_mark_spam(comment=comment, actor=actor)
    return ban, comment


def ban_message(ban: Ban, comment: Comment, *, spam: bool) -> str:
    until = "for good" if ban.expires_at is None else f"until {ban.expires_at:%Y-%m-%d %H:%M}"
    return f"Banned {ban.target} {until}." + (" The comment is spam." if spam else "")


def ban_errors(error: ValidationError) -> dict[str, list[str]]:
    """Return a ban service's refusal as the queue form's field errors."""
    if hasattr(error, "error_dict"):
        return {"target": [m for messages in error.message_dict.values() for m in messages]}
    return {"target": list(error.messages)}
