"""Staff work on subscribers: filters, the read-only consent log, actions, CSV export."""

import csv
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from reex.admin import ReadOnlyAdmin, ReadOnlyInline
from subscriptions import selectors, services
from subscriptions.admin_editions import NewsletterListAdmin
from subscriptions.consent import Requester, requester_of
from subscriptions.models import (
    ConsentEvent,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
)

Status = Subscription.Status


def _requester(request: HttpRequest) -> Requester:
    username = getattr(getattr(request, "user", None), "username", "?")
    return requester_of(
        request, source=ConsentEvent.Source.ADMIN, user_agent=f"admin user {username}"
    )


def _csv_safe(value: object) -> str:
    """Return the cell as text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class SubscriptionInline(ReadOnlyInline):
    model = Subscription
    fields = readonly_fields = (
        "mailing_list",
        "status",
        "created_at",
        "requested_at",
        "confirmed_at",
        "unsubscribed_at",
    )


class ConsentEventInline(ReadOnlyInline):
    model = ConsentEvent
    verbose_name_plural = "consent log (append-only)"
    fields = readonly_fields = (
        "created_at",
        "action",
        "mailing_list",
        "source",
        "ip_address",
        "user_agent",
        "consent_version",
        "consent_text",
        "detail",
    )


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = readonly_fields = (
        "created_at",
        "kind",
        "mailing_list",
        "status",
        "attempts",
        "sent_at",
        "last_error",
    )


class OnListFilter(admin.SimpleListFilter):
    title = "list"
    parameter_name = "on_list"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [(m.slug, m.name) for m in MailingList.objects.order_by("name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return _with_subscription(request, queryset)


class ListStatusFilter(admin.SimpleListFilter):
    title = "status (on the chosen list, or on any)"
    parameter_name = "list_status"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return list(Status.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return _with_subscription(request, queryset)


def _with_subscription(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """Filter subscribers by list and status together: both must hold on one subscription."""
    slug, status = request.GET.get("on_list"), request.GET.get("list_status")
    if not slug and not status:
        return queryset
    subscriptions = Subscription.objects.filter(subscriber=OuterRef("pk"))
    if slug:
        subscriptions = subscriptions.filter(mailing_list__slug=slug)
    if status:
        subscriptions = subscriptions.filter(status=status)
    return queryset.filter(Exists(subscriptions))


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "lists_summary", "suppression", "soft_bounces", "created_at"]
    list_filter = [OnListFilter, ListStatusFilter, "suppression", "created_at", "suppressed_at"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "email",
        "suppression",
        "suppressed_at",
        "soft_bounces",
        "created_at",
    )
    inlines = [SubscriptionInline, ConsentEventInline, DeliveryInline]
    actions = [
        "resend_confirmation",
        "unsubscribe_all",
        "suppress",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscriber]:
        return super().get_queryset(request).prefetch_related("subscriptions__mailing_list")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Addresses join by double opt-in only (form or API), never typed in by staff.
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Viewable, changed only through the actions (which write the consent log).
        return False

    @admin.display(description="lists")
    def lists_summary(self, obj: Subscriber) -> str:
        return ", ".join(f"{s.mailing_list.slug}: {s.status}" for s in obj.subscriptions.all())

    @admin.action(description="Resend the confirmation email", permissions=["manage"])
    def resend_confirmation(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        sent = sum(
            services.confirmation_resend(
                subscriber_id=pk, requester=_requester(request), ignore_cooldown=True
            )
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request,
            f"Confirmation queued for {sent} address(es); the others have nothing pending, "
            "are suppressed or reached the daily cap.",
        )

    @admin.action(description="Unsubscribe from every list", permissions=["manage"])
    def unsubscribe_all(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        changed = sum(
            len(
                services.subscription_unsubscribe(
                    subscriber_id=pk, list_ids=None, requester=_requester(request)
                )
            )
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{changed} subscription(s) ended.")

    @admin.action(description="Suppress: never email these addresses again", permissions=["manage"])
    def suppress(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        changed = sum(
            services.subscriber_suppress(
                subscriber_id=pk, reason=Suppression.MANUAL, requester=_requester(request)
            )
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{changed} address(es) suppressed.", messages.SUCCESS)

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subscriptions.change_subscriber")


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = [
        "subscriber",
        "mailing_list",
        "status",
        "suppressed",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    list_filter = [
        "mailing_list",
        "status",
        "subscriber__suppression",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    list_select_related = ["subscriber", "mailing_list"]
    search_fields = ["subscriber__email"]
    date_hierarchy = "created_at"
    actions = ["unsubscribe"]

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("subscriptions.change_subscription")

    @admin.display(boolean=True)
    def suppressed(self, obj: Subscription) -> bool:
        return obj.subscriber.is_suppressed

    @admin.action(description="Unsubscribe from this list", permissions=["manage"])
    def unsubscribe(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        changed = 0
        for subscriber_id, list_id in queryset.values_list("subscriber_id", "mailing_list_id"):
            changed += len(
                services.subscription_unsubscribe(
                    subscriber_id=subscriber_id, list_ids=[list_id], requester=_requester(request)
                )
            )
        self.message_user(request, f"{changed} subscription(s) ended.")


def _count(status: str) -> Callable[[MailingList], Any]:
    """Return a column showing the list's count annotated by ``selectors.list_counts``."""

    @admin.display(description=status)
    def count(obj: MailingList) -> int:
        return int(getattr(obj, f"{status}_count"))

    count.__name__ = f"{status}_count"  # the column's CSS class, as before
    return count


@admin.register(MailingList)
class MailingListAdmin(NewsletterListAdmin):
    list_display = [
        "name",
        "slug",
        "is_public",
        *(_count(status) for status in [*Status.values, "suppressed"]),
        "send_time",
        "time_zone",
    ]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["export_confirmed_csv", "send_now", "send_test_to_me"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MailingList]:
        return selectors.list_counts()

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        # The slug is in every unsubscribe header already sent (List-Id): it never changes.
        return ["slug", "next_edition"] if obj is not None else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: object = None) -> dict:
        # A read-only slug is not on the form: nothing to fill in.
        return {} if obj is not None else super().get_prepopulated_fields(request, obj)

    @admin.action(description="Export confirmed subscribers (CSV)", permissions=["view"])
    def export_confirmed_csv(
        self, request: HttpRequest, queryset: QuerySet[MailingList]
    ) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(["list", "email", "signed_up_at", "confirmed_at"])
        writer.writerows(_export_rows(queryset))
        return response


def _export_rows(lists: Iterable[MailingList]) -> Iterable[list[str]]:
    for mailing_list in lists:
        for subscription in selectors.subscriptions_confirmed(mailing_list=mailing_list):
            yield [
                _csv_safe(mailing_list.slug),
                _csv_safe(subscription.subscriber.email),
                subscription.created_at.isoformat(),
                subscription.confirmed_at.isoformat() if subscription.confirmed_at else "",
            ]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "subscriber", "action", "mailing_list", "source", "ip_address"]
    list_filter = ["action", "source", "mailing_list", "consent_version", "created_at"]
    list_select_related = ["subscriber", "mailing_list"]
    search_fields = ["subscriber__email", "ip_address"]
    date_hierarchy = "created_at"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "subscriber",
        "kind",
        "mailing_list",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["kind", "status", "created_at"]
    list_select_related = ["subscriber", "mailing_list"]
    search_fields = ["subscriber__email"]
