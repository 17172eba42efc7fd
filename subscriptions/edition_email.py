"""An edition as email: rendered once with placeholders, then one message per recipient.

Rendering (templates, CSS inlining) happens once per edition; a recipient's message only
replaces the two placeholders and sets its headers, so it costs a string replace.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from email.utils import make_msgid
from typing import Any
from urllib.parse import quote, urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.html import escape

from subscriptions import emails
from subscriptions.models import Edition, MailingList, Subscriber

# Stand-ins for what differs per recipient; neither HTML escaping nor inlining alters them.
EMAIL = "%%reex:email%%"
UNSUBSCRIBE = "%%reex:unsubscribe%%"
# What only a recipient may see (their address, their unsubscribe link, "view in your
# browser") sits between these comments, which the archive removes.
PERSONAL = re.compile(r"<!--reex:personal-->.*?<!--/reex:personal-->", re.DOTALL)
PREHEADER_CHARS = 140
SUBJECT_CHARS = 300
_MESSAGE_ID_SALT = "subscriptions.edition.message-id"

# One inliner for the process: media queries (dark mode, narrow screens) stay in <style>.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class EditionContent:
    """What an edition shows. Articles and conversations are read by attribute only."""

    mailing_list: MailingList
    number: int
    issue_date: date
    articles: Sequence[Any]
    conversations: Sequence[Any] = ()


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str

    def fields(self) -> dict[str, str]:
        return asdict(self)


def archive_url(*, mailing_list: MailingList, number: int) -> str:
    path = reverse("subscriptions:archive_edition", args=[mailing_list.slug, number])
    return emails.absolute_url(path)


def article_link(article: Any) -> str:
    """Return where an article's title links: its page on the site, else ours."""
    url = getattr(article, "url", "")
    if url:
        return str(url)
    return emails.absolute_url(reverse("comments:article", args=[article.key]))


# Something that reads as a host name: "reuters.com", "www.example.org".
_DOMAIN = re.compile(r"\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b", re.IGNORECASE)


def names_other_domain(text: str, link: str) -> bool:
    """Return whether ``text`` names a host other than the link's: spam filters flag such
    link text, so that title is shown unlinked, with a plain "Read more" link."""
    host = (urlsplit(link).hostname or "").lower()
    return any(not host.endswith(name.lower()) for name in _DOMAIN.findall(text))


def _item(obj: Any, *, link: str, title: str | None = None) -> dict[str, Any]:
    title = obj.title if title is None else title
    return {"article": obj, "link": link, "link_title": not names_other_domain(title, link)}


def edition_subject(*, content: EditionContent) -> str:
    name = emails.one_line(content.mailing_list.name)
    first = emails.one_line(content.articles[0].title)
    more = len(content.articles) - 1
    subject = f"{name}: {first}" + (f" (and {more} more)" if more else "")
    return subject if len(subject) <= SUBJECT_CHARS else subject[: SUBJECT_CHARS - 1] + "…"


def edition_preheader(*, content: EditionContent) -> str:
    """Return the edition's first line, which inboxes show next to the subject."""
    first = content.articles[0]
    text = emails.one_line(getattr(first, "summary", "") or "")
    if not text:
        text = "; ".join(emails.one_line(a.title) for a in content.articles)
    return text if len(text) <= PREHEADER_CHARS else text[: PREHEADER_CHARS - 1].rstrip() + "…"


def edition_render(*, content: EditionContent) -> Rendered:
    """Render the edition's subject, HTML (CSS inlined) and text, with placeholders."""
    context = {
        "mailing_list": content.mailing_list,
        "number": content.number,
        "issue_date": content.issue_date,
        "items": [_item(a, link=article_link(a)) for a in content.articles],
        "conversations": [
            _item(c, link=c.url, title=c.article.title) for c in content.conversations
        ],
        "preheader": edition_preheader(content=content),
        "archive_url": archive_url(mailing_list=content.mailing_list, number=content.number),
        "base_url": settings.REEX_BASE_URL,
        "email": EMAIL,
        "unsubscribe_url": UNSUBSCRIBE,
    }
    html = render_to_string("subscriptions/email/edition.html", context)
    return Rendered(
        subject=edition_subject(content=content),
        html=_INLINER.inline(html),
        text=render_to_string("subscriptions/email/edition.txt", context),
    )


def edition_public_html(*, edition: Edition) -> str:
    """Return the edition's HTML as the archive shows it: without anything personal."""
    return PERSONAL.sub("", edition.html).replace(EMAIL, "").replace(UNSUBSCRIBE, "")


def edition_message_id(*, edition: Edition, subscriber_id: int) -> str:
    """Return the message's Message-ID on the site's domain, the same for a resend.

    A message sent twice (a worker killed mid-send) keeps its Message-ID, which lets
    mailbox providers fold the copies into one.
    """
    key = f"{edition.pk}:{subscriber_id}"
    digest = salted_hmac(_MESSAGE_ID_SALT, key).hexdigest()[:20]
    return f"<edition.{edition.pk}.{digest}@{_domain()}>"


def edition_message_id_maker(*, edition: Edition) -> Callable[[int], str]:
    """Return ``edition_message_id`` for the edition's recipients one after another: the
    same Message-IDs, the key derived once."""
    keyed = salted_hmac(_MESSAGE_ID_SALT, b"")
    domain = _domain()

    def make(subscriber_id: int) -> str:
        mac = keyed.copy()
        mac.update(f"{edition.pk}:{subscriber_id}".encode())
        return f"<edition.{edition.pk}.{mac.hexdigest()[:20]}@{domain}>"

    return make


def _domain() -> str:
    return urlsplit(settings.REEX_BASE_URL).hostname or "localhost"


def edition_headers_for(*, edition: Edition, unsubscribe: str, message_id: str) -> dict[str, str]:
    """Return one recipient's headers: RFC 2369/2919/8058 list headers and Message-ID."""
    headers = emails.list_headers(unsubscribe=unsubscribe, mailing_list=edition.mailing_list)
    mailto = settings.REEX_NEWSLETTER_UNSUBSCRIBE_MAILTO
    if mailto:
        subject = quote(f"unsubscribe {edition.mailing_list.slug}")
        headers["List-Unsubscribe"] += f", <mailto:{mailto}?subject={subject}>"
    headers["List-Archive"] = f"<{emails.absolute_url(_archive_path(edition))}>"
    headers["Message-ID"] = message_id
    return headers


def _archive_path(edition: Edition) -> str:
    return reverse("subscriptions:archive", args=[edition.mailing_list.slug])


def edition_message_for(
    *,
    edition: Edition,
    subscriber: Subscriber,
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    """Return the edition's message to one subscriber: placeholders filled, headers set."""
    unsubscribe = emails.unsubscribe_url(subscriber=subscriber, mailing_list=edition.mailing_list)
    message_id = edition_message_id(edition=edition, subscriber_id=subscriber.pk)
    return _message(
        edition=edition,
        to=subscriber.email,
        unsubscribe=unsubscribe,
        message_id=message_id,
        connection=connection,
    )


def edition_test_message(
    *, edition: Edition, to: str, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """Return a staff member's test copy: marked in the subject, its links harmless."""
    message = _message(
        edition=edition,
        to=to,
        unsubscribe=emails.absolute_url(_archive_path(edition)),
        message_id=make_msgid(idstring="edition-test", domain=_domain()),
        connection=connection,
    )
    message.subject = f"[Test] {message.subject}"
    return message


def _message(
    *,
    edition: Edition,
    to: str,
    unsubscribe: str,
    message_id: str,
    connection: BaseEmailBackend | None,
) -> EmailMultiAlternatives:
    text = edition.text.replace(EMAIL, to).replace(UNSUBSCRIBE, unsubscribe)
    html = edition.html.replace(EMAIL, escape(to)).replace(UNSUBSCRIBE, escape(unsubscribe))
    message = EmailMultiAlternatives(
        subject=edition.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=edition_headers_for(
            edition=edition, unsubscribe=unsubscribe, message_id=message_id
        ),
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
