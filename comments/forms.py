"""The reader's comment form: the model's own validation plus two bot traps."""

from typing import Any

from django import forms
from django.conf import settings

from comments.models import Comment, Flag
from comments.services import comment_body_normalise
from comments.tokens import form_timestamp_age

TOO_FAST = "You sent the form very quickly. Please wait a few seconds and send it again."
EXPIRED = "This form has expired. Please send it again."
UNVERIFIED = "The form could not be verified. Please send it again."
HONEYPOT = "Your comment could not be accepted."


class CommentForm(forms.ModelForm):
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    # Humans never see this field (CSS moves it off screen); bots fill it in.
    homepage = forms.CharField(required=False, label="Leave this field empty")
    ts = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Comment
        fields = ["author_name", "author_email", "author_url", "body", "notify_replies"]
        labels = {
            "author_name": "Name",
            "author_email": "Email",
            "author_url": "Website",
            "body": "Comment",
            "notify_replies": "Notify me of replies by email",
        }
        widgets = {
            "author_email": forms.EmailInput,
            "author_url": forms.URLInput,
            "body": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timestamp_stale = False
        self.fields["homepage"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_body(self) -> str:
        # The model's validators then see the text as it is stored (a browser sends "\r\n").
        return comment_body_normalise(self.cleaned_data.get("body", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("homepage"):
            raise forms.ValidationError(HONEYPOT, code="honeypot")
        if not self.errors:
            self._check_timestamp(cleaned.get("ts") or "")
        return cleaned

    def _check_timestamp(self, value: str) -> None:
        age = form_timestamp_age(value)
        if age is None:
            self.timestamp_stale = True
            raise forms.ValidationError(UNVERIFIED, code="timestamp")
        if age > settings.REEX_FORM_MAX_AGE_SECONDS > 0:
            self.timestamp_stale = True
            raise forms.ValidationError(EXPIRED, code="expired")
        if age < settings.REEX_FORM_MIN_SECONDS:
            raise forms.ValidationError(TOO_FAST, code="too_fast")


class FlagForm(forms.Form):
    """A reader's report of a published comment."""

    reason = forms.ChoiceField(
        choices=Flag.Reason.choices, widget=forms.RadioSelect, label="What is wrong with it?"
    )
    detail = forms.CharField(
        required=False,
        max_length=500,
        label="Anything the moderators should know (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CommentEditForm(forms.ModelForm):
    """The author's edit of their own comment: what may change, checked as when posted."""

    class Meta:
        model = Comment
        fields = ["author_name", "author_url", "body"]
        labels = {"author_name": "Name", "author_url": "Website", "body": "Comment"}
        widgets = {"author_url": forms.URLInput, "body": forms.Textarea(attrs={"rows": 6})}

    def clean_body(self) -> str:
        return comment_body_normalise(self.cleaned_data.get("body", ""))
