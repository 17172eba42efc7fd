"""The subscriptions factories, now in tests/factories.py (kept for existing imports)."""

from tests.factories import (
    DeliveryFactory,
    MailingListFactory,
    SubscriberFactory,
    SubscriptionFactory,
)

__all__ = ["DeliveryFactory", "MailingListFactory", "SubscriberFactory", "SubscriptionFactory"]
