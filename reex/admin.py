"""Admin pieces every app uses: records that are shown, never edited in admin."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reex.models import WebhookDelivery


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(_ReadOnly, admin.ModelAdmin):
    """An audit log or other record kept as written: listed and shown, never changed."""


class ReadOnlyInline(_ReadOnly, admin.TabularInline):
    """The same, as rows on another record's page."""

    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The outbound events: what was sent, what is still owed, and the last error."""

    list_display = ["event", "target", "created_at", "attempts", "sent_at", "last_error"]
    list_filter = ["target", "event", ("sent_at", admin.EmptyFieldListFilter)]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
