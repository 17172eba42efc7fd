import factory
from factory.django import DjangoModelFactory

from subscriptions.models import Delivery, MailingList, Subscriber, Subscription


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
