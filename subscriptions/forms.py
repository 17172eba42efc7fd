"""The reader's sign-up box: email, consent, honeypot and a signed timestamp."""

import time

from django import forms
from django.conf import settings
from django.core import signing

from subscriptions import selectors
from subscriptions.consent import CURRENT as CONSENT
from subscriptions.models import MailingList

_TS_SALT = "subscriptions.form-ts"


def form_timestamp() -> str:
    """Return a signed 'form shown at' stamp for the hidden field."""
    return signing.dumps(int(time.time()), salt=_TS_SALT)


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.org"}),
    )
    lists = forms.ModelMultipleChoiceField(
        label="Newsletters",
        queryset=MailingList.objects.none(),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    consent = forms.BooleanField(
        label=CONSENT.text,
        error_messages={"required": "Please tick the box to agree, or we cannot send anything."},
    )
    # The honeypot: hidden from people by CSS, filled in by naive bots.
    website = forms.CharField(required=False, label="Leave this field empty")
    ts = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        lists = self.fields["lists"]
        assert isinstance(lists, forms.ModelMultipleChoiceField)
        lists.queryset = selectors.lists_public()

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_ts(self) -> str:
        value = self.cleaned_data["ts"]
        try:
            max_age = settings.REEX_FORM_MAX_AGE_SECONDS or None  # 0 disables the check
            shown = signing.loads(value, salt=_TS_SALT, max_age=max_age)
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "This form was open too long. Please send it again.", code="expired"
            ) from None
        except signing.BadSignature:
            raise forms.ValidationError("Please reload the page and try again.") from None
        if not isinstance(shown, int) or time.time() - shown < settings.REEX_FORM_MIN_SECONDS:
            raise forms.ValidationError(
                "That was quicker than a person can type. Please send it again.", code="fast"
            )
        return value

    def clean(self) -> dict[str, object] | None:
        cleaned = super().clean()
        if not self.errors and not self.chosen_lists():
            self.add_error("lists", "Please choose a newsletter.")
        return cleaned

    def chosen_lists(self) -> list[MailingList]:
        """Return the lists ticked, or the default list when the box offers no choice."""
        chosen = list(self.cleaned_data.get("lists") or [])
        if chosen:
            return chosen
        default, _ = selectors.lists_by_slugs(slugs=[selectors.DEFAULT_LIST])
        return default


def box_context(form: SubscribeForm) -> dict[str, object]:
    """Return what the sign-up box template needs, with a fresh timestamp."""
    return {
        "form": form,
        "form_ts": form_timestamp(),
        "consent": CONSENT,
        "offer_lists": selectors.lists_public().count() > 1,
    }
