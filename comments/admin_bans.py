"""Bans and reports in admin: add, list and lift bans; ban a comment's author; see reports.

Registered from here (imported by comments.admin) so the comment screens stay in one module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from comments import services
from comments.admin import CommentAdmin
from comments.models import Ban, Comment, Flag
from reex.admin import ReadOnlyAdmin

DURATIONS = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "365d": timedelta(days=365),
}
DURATION_CHOICES = [
    ("1d", "One day"),
    ("7d", "A week"),
    ("30d", "A month"),
    ("365d", "A year"),
    ("", "For good"),
]


def ban_expiry(duration: str) -> Any:
    """Return when a ban of this duration choice ends (None: for good)."""
    return timezone.now() + DURATIONS[duration] if duration in DURATIONS else None


class BanAddForm(forms.ModelForm):
    duration = forms.ChoiceField(choices=DURATION_CHOICES, required=False, initial="")

    class Meta:
        model = Ban
        fields = ["email", "network", "reason"]
        help_texts = {
            "email": "Ban an email address…",
            "network": "…or an IP address (192.0.2.7) or network (192.0.2.0/24, 2001:db8::/48).",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email, network = cleaned.get("email") or "", cleaned.get("network") or ""
        if "email" in self.errors or "network" in self.errors:
            return cleaned
        cleaned.update(services.ban_target_clean(email=email, network=network))
        return cleaned

    def _post_clean(self) -> None:
        # The service checks the ban when it saves; the model's own checks would refuse
        # the target before it is normalised.
        pass


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ["__str__", "reason", "created_by", "created_at", "expires_at", "state"]
    list_filter = ["created_at", "expires_at", "lifted_at"]
    search_fields = ["email", "network", "reason"]
    actions = ["lift_selected"]
    readonly_fields = ["email", "network", "created_by", "created_at", "lifted_at", "lifted_by"]
    fields = [*readonly_fields, "reason", "expires_at"]
    add_fields = ["email", "network", "reason", "duration"]

    def get_form(
        self, request: HttpRequest, obj: Ban | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        return BanAddForm

    def get_readonly_fields(self, request: HttpRequest, obj: Ban | None = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Ban | None = None) -> Any:
        return self.fields if obj is not None else self.add_fields

    def save_model(self, request: HttpRequest, obj: Ban, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            services.ban_update(ban=obj, reason=data["reason"], expires_at=data["expires_at"])
            return
        ban = services.ban_create(
            email=data["email"],
            network=data["network"],
            reason=data["reason"],
            expires_at=ban_expiry(data.get("duration") or ""),
            created_by=request.user,
        )
        obj.pk, obj.email, obj.network = ban.pk, ban.email, ban.network

    @admin.display(description="state")
    def state(self, ban: Ban) -> str:
        if ban.lifted_at is not None:
            return "lifted"
        if ban.expires_at is not None and ban.expires_at <= timezone.now():
            return "expired"
        return "active"

    @admin.action(description="Lift selected bans", permissions=["change"])
    def lift_selected(self, request: HttpRequest, queryset: QuerySet[Ban]) -> None:
        for ban in queryset:
            services.ban_lift(ban=ban, actor=request.user)
        self.message_user(request, f"Lifted {len(queryset)} ban(s).", messages.SUCCESS)


def _ban_authors(by: str, description: str) -> Any:
    @admin.action(description=description, permissions=["moderate"])
    def action(
        modeladmin: admin.ModelAdmin[Comment], request: HttpRequest, queryset: QuerySet[Comment]
    ) -> None:
        if not request.user.has_perm("comments.add_ban"):
            modeladmin.message_user(request, "You may not add bans.", messages.ERROR)
            return
        banned, skipped = set(), 0
        for comment in queryset:
            try:
                ban = services.ban_comment_author(comment=comment, by=by, created_by=request.user)
            except ValidationError:
                skipped += 1
                continue
            banned.add(ban.target)
        note = f"Banned for good: {', '.join(sorted(banned)) or 'nobody'}."
        modeladmin.message_user(request, note, messages.SUCCESS)
        if skipped:
            modeladmin.message_user(request, f"{skipped} without an IP address.", messages.WARNING)

    action.__name__ = f"ban_authors_by_{by}"
    return action


# Added to the comment list's actions without editing its module.
CommentAdmin.actions = [
    *CommentAdmin.actions,
    _ban_authors("email", "Ban the authors' email addresses"),
    _ban_authors("ip", "Ban the authors' IP addresses"),
]


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["comment", "reason", "detail", "created_at", "cleared_at"]
    list_filter = ["reason", "created_at", "cleared_at"]
    list_select_related = ["comment"]
    raw_id_fields = ["comment"]
