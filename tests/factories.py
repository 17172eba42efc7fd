"""factory_boy factories for every app's models, for any app's tests."""

from datetime import date, timedelta

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone
from factory.django import DjangoModelFactory

from comments.models import Article, Comment, ModerationWord
from subscriptions.models import Delivery, Edition, MailingList, Subscriber, Subscription


class ArticleFactory(DjangoModelFactory[Article]):
    class Meta:
        model = Article
        django_get_or_create = ["key"]

    key = factory.Sequence(lambda n: f"article-{n}")
    title = factory.Sequence(lambda n: f"Article {n}")
    url = factory.LazyAttribute(lambda a: f"https://news.example.org/{a.key}/")
    published_at = factory.LazyFunction(timezone.now)
    comments_open = True


class CommentFactory(DjangoModelFactory[Comment]):
    """A pending, unchecked comment as a reader just submitted it."""

    class Meta:
        model = Comment

    article = factory.SubFactory(ArticleFactory)
    author_name = factory.Sequence(lambda n: f"Reader {n}")
    author_email = factory.Sequence(lambda n: f"reader{n}@example.org")
    body = factory.Sequence(lambda n: f"A thoughtful comment, number {n}.")
    ip_address = "203.0.113.7"


class ApprovedCommentFactory(CommentFactory):
    status = Comment.Status.APPROVED
    checked_at = factory.LazyFunction(timezone.now)
    body_html = factory.LazyAttribute(lambda c: f"<p>{c.body}</p>")


class WordFactory(DjangoModelFactory[ModerationWord]):
    class Meta:
        model = ModerationWord

    phrase = "casino"
    action = ModerationWord.Action.BLOCK


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


def make_moderator(**kwargs: object) -> User:
    user = UserFactory.create(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


class MailingListFactory(DjangoModelFactory[MailingList]):
    class Meta:
        model = MailingList
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"list-{n}")
    name = factory.Sequence(lambda n: f"List {n}")


class SubscriberFactory(DjangoModelFactory[Subscriber]):
    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    confirm_nonce = factory.Sequence(lambda n: f"nonce{n}")


class SubscriptionFactory(DjangoModelFactory[Subscription]):
    class Meta:
        model = Subscription

    subscriber = factory.SubFactory(SubscriberFactory)
    mailing_list = factory.LazyFunction(lambda: MailingList.objects.get(slug="daily"))
    status = Subscription.Status.PENDING


class DeliveryFactory(DjangoModelFactory[Delivery]):
    class Meta:
        model = Delivery

    subscriber = factory.SubFactory(SubscriberFactory)
    mailing_list = factory.LazyFunction(lambda: MailingList.objects.get(slug="daily"))
    kind = Delivery.Kind.CONFIRMATION
    nonce = factory.LazyAttribute(lambda d: d.subscriber.confirm_nonce)


class EditionFactory(DjangoModelFactory[Edition]):
    """A composed edition, scheduled, with nothing rendered: tests set what they need."""

    class Meta:
        model = Edition

    mailing_list = factory.LazyFunction(lambda: MailingList.objects.get(slug="daily"))
    number = factory.Sequence(lambda n: n + 1)
    issue_date = factory.Sequence(lambda n: date(2026, 1, 1) + timedelta(days=n))
    scheduled_for = factory.LazyFunction(timezone.now)
    cutoff = factory.LazyAttribute(lambda e: e.scheduled_for)
    subject = factory.Sequence(lambda n: f"Edition {n}")
