"""The emails a subscriber receives: text and HTML, with RFC 8058 unsubscribe headers."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse

from subscriptions import selectors, tokens
from subscriptions.models import Delivery, MailingList, Subscriber


def one_line(text: str) -> str:
    """Return ``text`` with every run of whitespace, line breaks included, as one space.

    Header values must be one line; names typed in the admin before they were validated
    (or with a Unicode line separator) must neither fail the email nor add a header.
    """
    return " ".join(text.split())


def absolute_url(path: str) -> str:
    return f"{settings.REEX_BASE_URL}{path}"


def unsubscribe_url(*, subscriber: Subscriber, mailing_list: MailingList) -> str:
    token = tokens.unsubscribe_token_make(subscriber_id=subscriber.pk, list_id=mailing_list.pk)
    return absolute_url(reverse("subscriptions:unsubscribe", args=[token]))


def confirm_url(*, subscriber: Subscriber, nonce: str) -> str:
    token = tokens.confirmation_token_make(subscriber_id=subscriber.pk, nonce=nonce)
    return absolute_url(reverse("subscriptions:confirm", args=[token]))


def list_headers(*, unsubscribe: str, mailing_list: MailingList) -> dict[str, str]:
    """Return the RFC 2369/2919/8058 headers big mailbox providers require."""
    host = urlsplit(settings.REEX_BASE_URL).hostname or "localhost"
    return {
        "List-Id": f"{one_line(mailing_list.name)} <{mailing_list.slug}.{host}>",
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def delivery_message(
    *,
    delivery: Delivery,
    connection: BaseEmailBackend | None = None,
    pending: list[MailingList] | None = None,
) -> EmailMultiAlternatives:
    """Build the email; a confirmation lists ``pending`` (read here when not given)."""
    subscriber, mailing_list = delivery.subscriber, delivery.mailing_list
    unsubscribe = unsubscribe_url(subscriber=subscriber, mailing_list=mailing_list)
    context: dict[str, object] = {
        "subscriber": subscriber,
        "mailing_list": mailing_list,
        "unsubscribe_url": unsubscribe,
        "base_url": settings.REEX_BASE_URL,
    }
    if delivery.kind == Delivery.Kind.CONFIRMATION:
        context["confirm_url"] = confirm_url(subscriber=subscriber, nonce=delivery.nonce)
        if pending is None:
            pending = selectors.lists_pending_for(subscriber=subscriber)
        context["lists"] = pending
        context["max_age_hours"] = settings.REEX_CONFIRMATION_MAX_AGE_HOURS
        subject = "Please confirm your subscription"
    else:
        subject = f"Welcome to the {one_line(mailing_list.name)}"
    template = f"subscriptions/email/{delivery.kind}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers=list_headers(unsubscribe=unsubscribe, mailing_list=mailing_list),
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message
