"""The "Export personal data" and "Erase personal data" actions on other apps' admins.

privacy/admin.py offers them on the comment and subscriber lists with
``personal_data_actions_offer``, so those apps need not know about privacy. Only users holding
``privacy.export_personal_data`` / ``privacy.erase_personal_data`` see or run them:
superusers, and members of the "Data officers" group (empty by default).
"""

import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from comments import selectors as comments_selectors
from privacy import services
from privacy.models import PersonalDataRequest
from subscriptions.selectors import subscribers_by_email

Action = Callable[[admin.ModelAdmin, HttpRequest, QuerySet], HttpResponse | None]


def personal_data_actions_offer(model_admin: admin.ModelAdmin, *, email_field: str) -> None:
    """Add both actions, and the permission checks they name, to a registered ModelAdmin."""
    offered = personal_data_actions(email_field=email_field)
    model_admin.actions = [*(model_admin.actions or []), *offered]
    for name in ["export", "erase"]:
        setattr(model_admin, f"has_{name}_personal_data_permission", _holds(name))


def _holds(name: str) -> Callable[[HttpRequest], bool]:
    return lambda request: request.user.has_perm(f"privacy.{name}_personal_data")


def _emails(queryset: QuerySet, email_field: str) -> list[str]:
    """Return the distinct addresses of the selection (case-insensitively), sorted."""
    found: dict[str, str] = {}
    for email in queryset.values_list(email_field, flat=True):
        if email:
            found.setdefault(email.lower(), email)
    return sorted(found.values(), key=str.lower)


Handler = Callable[[admin.ModelAdmin, HttpRequest, QuerySet, list[str]], HttpResponse | None]


def personal_data_actions(*, email_field: str) -> list[Action]:
    """Build the two actions for a model whose rows carry the address in ``email_field``."""
    return [
        _action("export", "Export personal data (JSON)", _export, email_field=email_field),
        _action("erase", "Erase personal data…", _erase, email_field=email_field),
    ]


def _action(name: str, description: str, handle: Handler, *, email_field: str) -> Action:
    """An action that refuses without its permission and warns on a selection of no address."""
    permission = f"privacy.{name}_personal_data"

    @admin.action(description=description, permissions=[f"{name}_personal_data"])
    def action(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        emails = _emails(queryset, email_field)
        if not emails:
            modeladmin.message_user(request, "No address in the selection.", messages.WARNING)
            return None
        return handle(modeladmin, request, queryset, emails)

    action.__name__ = f"{name}_personal_data"
    return action


def _export(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, emails: list[str]
) -> HttpResponse:
    return _export_response(request, emails)


def _erase(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, emails: list[str]
) -> HttpResponse | None:
    if request.POST.get("post") != "yes":
        return _erase_confirmation(modeladmin, request, queryset, emails)
    for email in emails:
        services.personal_data_erase(
            email=email, actor=request.user, via=PersonalDataRequest.Via.ADMIN
        )
    note = f"Personal data erased for {len(emails)} address(es); comments kept anonymised."
    modeladmin.message_user(request, note, messages.SUCCESS)
    return None


def _export_response(request: HttpRequest, emails: list[str]) -> HttpResponse:
    exports = [
        services.personal_data_export(
            email=email, actor=request.user, via=PersonalDataRequest.Via.ADMIN
        )
        for email in emails
    ]
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(
        json.dumps(exports, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="personal-data-{stamp}.json"'
    return response


def _erase_confirmation(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, emails: list[str]
) -> TemplateResponse:
    summary = [
        {
            "email": email,
            "comments": comments_selectors.comments_by_email(email=email).count(),
            "subscribed": subscribers_by_email(email=email).exists(),
        }
        for email in emails
    ]
    context: dict[str, Any] = {
        **modeladmin.admin_site.each_context(request),
        "title": "Erase personal data",
        "subtitle": None,
        "summary": summary,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "privacy/erase_confirmation.html", context)
