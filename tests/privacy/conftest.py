from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from comments.models import Comment, Notification
from subscriptions.models import ConsentEvent, Delivery, MailingList, Subscriber, Subscription
from tests.factories import ApprovedCommentFactory, CommentFactory, UserFactory

EMAIL = "Ann.Reader@Example.org"
OTHER = "bob@example.net"


@dataclass
class Person:
    email: str
    approved: Comment
    pending: Comment
    reply_to_them: Comment
    notification: Notification
    subscriber: Subscriber


def _subscriber(*, email: str, ip: str, user_agent: str) -> Subscriber:
    daily = MailingList.objects.get(slug="daily")
    subscriber = Subscriber.objects.create(email=email)
    Subscription.objects.create(
        subscriber=subscriber,
        mailing_list=daily,
        status=Subscription.Status.CONFIRMED,
        confirmed_at=timezone.now(),
    )
    for action in ["requested", "confirmed", "soft_bounced"]:
        ConsentEvent.objects.create(
            subscriber=subscriber,
            mailing_list=daily if action != "soft_bounced" else None,
            action=action,
            source=ConsentEvent.Source.FORM,
            ip_address=ip,
            user_agent=user_agent,
            consent_version="2025-01" if action == "requested" else "",
            consent_text="Yes, send me the newsletter." if action == "requested" else "",
            detail=f"detail for {email}",
        )
    Delivery.objects.create(
        subscriber=subscriber,
        mailing_list=daily,
        kind=Delivery.Kind.WELCOME,
        status=Delivery.Status.SENT,
        sent_at=timezone.now(),
    )
    return subscriber


def make_person(*, email: str, ip: str, other_email: str) -> Person:
    """Two comments, a reply someone else wrote to them (emailed), and a subscription."""
    approved = ApprovedCommentFactory.create(
        author_name=f"Name of {email}",
        author_email=email.lower(),
        author_url=f"https://{email.split('@')[0].lower()}.example.com/",
        body=f"Raw <b>body</b> by {email}",
        notify_replies=True,
        ip_address=ip,
        user_agent=f"Agent of {email}",
        referrer=f"https://news.example.org/{email}/",
        created_at=timezone.now() - timedelta(days=2),
    )
    pending = CommentFactory.create(
        article=approved.article, author_email=email.lower(), ip_address=ip
    )
    reply = ApprovedCommentFactory.create(
        article=approved.article, parent=approved, depth=1, author_email=other_email
    )
    notification = Notification.objects.create(
        comment=reply, kind=Notification.Kind.REPLY, sent_at=timezone.now()
    )
    subscriber = _subscriber(email=email, ip=ip, user_agent=f"Agent of {email}")
    return Person(email, approved, pending, reply, notification, subscriber)


@pytest.fixture
def ann(db) -> Person:
    return make_person(email=EMAIL, ip="198.51.100.23", other_email=OTHER)


@pytest.fixture
def bob(db) -> Person:
    return make_person(email=OTHER, ip="203.0.113.99", other_email="carol@example.com")


@pytest.fixture
def data_officer(db) -> User:
    user = UserFactory.create(username="officer", is_staff=True)
    user.groups.add(Group.objects.get(name="Data officers"))
    return user


@pytest.fixture
def plain_staff(db) -> User:
    user = UserFactory.create(username="staff", is_staff=True)
    for codename in ["view_comment", "view_subscriber", "change_subscriber"]:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user
