"""Read-only views of the personal-data audit and of what erasures kept."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from comments.models import Comment
from privacy.admin_actions import personal_data_actions_offer
from privacy.models import ErasedConsent, PersonalDataRequest, SuppressedHash
from reex.admin import ReadOnlyAdmin
from subscriptions.models import Subscriber

# The comments and subscriptions apps come first in INSTALLED_APPS: their admins exist.
for _model, _email_field in [(Comment, "author_email"), (Subscriber, "email")]:
    personal_data_actions_offer(admin.site.get_model_admin(_model), email_field=_email_field)


@admin.register(PersonalDataRequest)
class PersonalDataRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "who", "via", "counts", "email_hash"]
    list_filter = ["action", "via", "created_at"]
    search_fields = ["email_hash", "actor_label"]
    search_help_text = "The address's hash (see docs/privacy.md) or a username."
    date_hierarchy = "created_at"

    @admin.display(description="by")
    def who(self, request_record: PersonalDataRequest) -> str:
        return request_record.actor_label or "manage.py"


@admin.register(ErasedConsent)
class ErasedConsentAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "mailing_list", "source", "consent_version"]
    list_filter = ["action", "source", "mailing_list", "consent_version"]
    search_fields = ["email_hash"]
    date_hierarchy = "created_at"


@admin.register(SuppressedHash)
class SuppressedHashAdmin(ReadOnlyAdmin):
    list_display = ["email_hash", "reason", "suppressed_at", "erased_at"]
    list_filter = ["reason"]
    search_fields = ["email_hash"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting the row lifts the suppression: a decision for whoever may erase.
        return request.user.has_perm("privacy.erase_personal_data")
