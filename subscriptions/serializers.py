"""Shapes of the subscriptions API (validation only; rules live in services)."""

from rest_framework import serializers

from subscriptions import selectors
from subscriptions.models import MailingList, Subscription


class SubscribeInSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    lists = serializers.ListField(
        child=serializers.SlugField(max_length=50),
        required=False,
        allow_empty=False,
        max_length=20,
        help_text='Slugs of the lists to join; default ["daily"].',
    )
    consent = serializers.BooleanField(
        help_text="true: the reader ticked the consent box showing the current consent text."
    )

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Consent is required to subscribe.")
        return value

    def validate_lists(self, value: list[str]) -> list[MailingList]:
        found, unknown = selectors.lists_by_slugs(slugs=value)
        if unknown:
            raise serializers.ValidationError(f"Unknown list: {', '.join(unknown)}.")
        return found

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if "lists" not in attrs:
            found, _ = selectors.lists_by_slugs(slugs=[selectors.DEFAULT_LIST])
            if not found:
                raise serializers.ValidationError({"lists": ["There is no default list."]})
            attrs["lists"] = found
        return attrs


class SubscribeAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


class SubscriptionsProblemSerializer(serializers.Serializer):
    """Any refusal that is not about one field (throttled, not allowed, unreadable body)."""

    detail = serializers.CharField()


class ConfirmInSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class UnsubscribeInSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)
    all = serializers.BooleanField(
        default=False, help_text="true: leave every list, not only the link's list."
    )


class SubscriptionStatusSerializer(serializers.Serializer):
    status = serializers.CharField()


class MailingListSerializer(serializers.ModelSerializer):
    class Meta:
        model = MailingList
        fields = ["slug", "name"]


class SubscribersQuerySerializer(serializers.Serializer):
    list = serializers.SlugField(help_text="The list's slug, e.g. daily.")
    status = serializers.ChoiceField(choices=Subscription.Status.choices, required=False)

    def validate_list(self, value: str) -> MailingList:
        mailing_list = MailingList.objects.filter(slug=value).first()
        if mailing_list is None:
            raise serializers.ValidationError(f"Unknown list: {value}.")
        return mailing_list


class SubscriberOutSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="subscriber.email")
    suppressed = serializers.SerializerMethodField()
    signed_up_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Subscription
        fields = ["email", "status", "suppressed", "signed_up_at", "confirmed_at"]

    def get_suppressed(self, obj: Subscription) -> bool:
        return obj.subscriber.is_suppressed
