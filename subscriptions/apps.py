from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "Subscriptions"

    def ready(self) -> None:
        # anymail's integration API is a signal: bounces and complaints arrive through it.
        from anymail.signals import tracking

        from subscriptions.webhooks import tracking_received

        tracking.connect(tracking_received, dispatch_uid="subscriptions.tracking")
