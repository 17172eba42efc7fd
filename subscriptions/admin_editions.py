"""Staff work on the newsletter: each list's schedule, the next edition, the editions sent.

Every action calls a service in ``editions``; the admin decides nothing itself.
"""

import smtplib
from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from reex.admin import ReadOnlyAdmin
from subscriptions import edition_email, editions, selectors
from subscriptions.models import Edition, MailingList, time_zones, validate_time_zone

PERMISSION = "subscriptions.change_edition"
# Preview pages are the email's own HTML: inline styles, images from the articles' hosts.
_EMAIL_CSP = {"style-src": [UNSAFE_INLINE], "img-src": ["https:", "http:", "data:"]}


class MailingListForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=lambda: [(z, z) for z in sorted(time_zones())],
        validators=[validate_time_zone],
        help_text="The send time is read in this zone; summer time is followed.",
    )

    class Meta:
        model = MailingList
        fields = [
            "name",
            "slug",
            "description",
            "is_public",
            "send_time",
            "time_zone",
            "include_conversations",
        ]


def _sample(edition: Edition, request: HttpRequest, *, text: bool) -> str:
    """Return the edition's content with the placeholders shown as the viewer would get them."""
    email = getattr(request.user, "email", "") or "reader@example.org"
    body = edition.text if text else edition.html
    return body.replace(edition_email.EMAIL, email).replace(edition_email.UNSUBSCRIBE, "#")


def _email_response(edition: Edition, request: HttpRequest) -> HttpResponse:
    if request.GET.get("format") == "text":
        return HttpResponse(
            _sample(edition, request, text=True), content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(_sample(edition, request, text=False))


class NewsletterListAdmin(admin.ModelAdmin):
    """The newsletter part of the list admin: schedule fields, preview, test, send now."""

    form = MailingListForm

    def get_urls(self) -> list[URLPattern]:
        view = csp_update(_EMAIL_CSP)(self.preview_view)  # type: ignore[arg-type]
        name = "subscriptions_mailinglist_preview"
        preview = path("<int:pk>/preview/", self.admin_site.admin_view(view), name=name)
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("subscriptions.view_edition"):
            raise Http404("No preview for you.")
        mailing_list = MailingList.objects.filter(pk=pk).first()
        if mailing_list is None:
            raise Http404("No such list.")
        edition = editions.edition_preview(newsletter_list=mailing_list)
        if edition is None:
            return HttpResponse(
                "Nothing new since the last edition: the next one would be skipped.",
                content_type="text/plain; charset=utf-8",
            )
        return _email_response(edition, request)

    @admin.display(description="next edition")
    def next_edition(self, obj: MailingList) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:subscriptions_mailinglist_preview", args=[obj.pk])
        nxt = editions.list_next_send_time(mailing_list=obj, now=timezone.now())
        local = nxt.astimezone(editions.list_zone(mailing_list=obj))
        return format_html(
            '{} · preview: <a href="{}" target="_blank">HTML</a> · '
            '<a href="{}?format=text" target="_blank">text</a>',
            f"{local:%Y-%m-%d %H:%M %Z}",
            url,
            url,
        )

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION)

    @admin.action(description="Send the next edition now", permissions=["send"])
    def send_now(self, request: HttpRequest, queryset: QuerySet[MailingList]) -> None:
        for mailing_list in queryset:
            try:
                edition = editions.edition_send_now(
                    newsletter_list=mailing_list, in_background=True
                )
            except editions.EditionUnderWay:
                self.message_user(
                    request, f"{mailing_list}: an edition is under way already.", messages.ERROR
                )
                continue
            if edition is None:
                self.message_user(
                    request, f"{mailing_list}: nothing new to send.", messages.WARNING
                )
            else:
                self.message_user(request, f"{edition}: starting.", messages.SUCCESS)

    @admin.action(description="Send a test of the next edition to me", permissions=["send"])
    def send_test_to_me(self, request: HttpRequest, queryset: QuerySet[MailingList]) -> None:
        email = getattr(request.user, "email", "")
        if not email:
            self.message_user(request, "Your account has no email address.", messages.ERROR)
            return
        for mailing_list in queryset:
            try:
                sent = editions.edition_test_send(newsletter_list=mailing_list, to=email)
            except (smtplib.SMTPException, OSError) as error:
                self.message_user(request, f"{mailing_list}: not sent: {error}", messages.ERROR)
                continue
            note = f"test sent to {email}" if sent else "nothing new to test"
            self.message_user(request, f"{mailing_list}: {note}.")


def _progress(obj: Edition) -> selectors.Progress:
    cached: selectors.Progress | None = getattr(obj, "_progress", None)
    if cached is None:
        cached = selectors.edition_progress(edition=obj, now=timezone.now())
        obj._progress = cached  # type: ignore[attr-defined]
    return cached


@admin.register(Edition)
class EditionAdmin(ReadOnlyAdmin):
    list_display = [
        "mailing_list",
        "number",
        "issue_date",
        "state",
        "recipients_count",
        "sent_count",
        "failed_count",
        "remaining",
        "progress",
        "scheduled_for",
    ]
    list_filter = ["mailing_list", "state", "trigger", "issue_date"]
    list_select_related = ["mailing_list"]
    date_hierarchy = "scheduled_for"
    fields = readonly_fields = (
        "mailing_list",
        "number",
        "state",
        "trigger",
        "reason",
        "issue_date",
        "scheduled_for",
        "cutoff",
        "started_at",
        "finished_at",
        "subject",
        "content",
        "recipients_count",
        "sent_count",
        "failed_count",
        "remaining",
        "progress",
        "consecutive_errors",
    )
    actions = ["pause", "resume", "cancel"]

    def get_urls(self) -> list[URLPattern]:
        view = csp_update(_EMAIL_CSP)(self.content_view)  # type: ignore[arg-type]
        name = "subscriptions_edition_content"
        content = path("<int:pk>/content/", self.admin_site.admin_view(view), name=name)
        return [content, *super().get_urls()]

    def content_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        edition = Edition.objects.select_related("mailing_list").filter(pk=pk).first()
        if edition is None or not self.has_view_permission(request, edition) or not edition.html:
            raise Http404("No such edition, or nothing rendered.")
        return _email_response(edition, request)

    @admin.display(description="content")
    def content(self, obj: Edition) -> str:
        if not obj.html:
            return "-"
        url = reverse("admin:subscriptions_edition_content", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank">HTML</a> · <a href="{}?format=text" target="_blank">'
            "text</a>",
            url,
            url,
        )

    @admin.display(description="recipients")
    def recipients_count(self, obj: Edition) -> int:
        return _progress(obj).recipients

    @admin.display(description="sent")
    def sent_count(self, obj: Edition) -> int:
        return _progress(obj).sent

    @admin.display(description="failed")
    def failed_count(self, obj: Edition) -> int:
        return _progress(obj).failed

    @admin.display(description="remaining")
    def remaining(self, obj: Edition) -> int:
        return _progress(obj).remaining

    @admin.display(description="progress")
    def progress(self, obj: Edition) -> str:
        progress = _progress(obj)
        text = f"{progress.percent} %"
        if progress.rate is not None:
            text += f", {progress.rate:.1f}/s"
        if progress.seconds_left is not None:
            text += f", {round(progress.seconds_left / 60)} min left"
        return text

    def has_send_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERMISSION)

    def _transition(self, request: HttpRequest, queryset: QuerySet[Edition], **kw: Any) -> None:
        service, verb = kw["service"], kw["verb"]
        done = sum(service(edition_id=pk) for pk in queryset.values_list("pk", flat=True))
        skipped = queryset.count() - done
        self.message_user(request, f"{done} edition(s) {verb}; {skipped} could not be.")

    @admin.action(description="Pause sending", permissions=["send"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        self._transition(request, queryset, service=editions.edition_pause, verb="paused")

    @admin.action(description="Resume sending", permissions=["send"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        self._transition(request, queryset, service=editions.edition_resume, verb="resumed")

    @admin.action(description="Cancel: send nothing more", permissions=["send"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Edition]) -> None:
        self._transition(request, queryset, service=editions.edition_cancel, verb="cancelled")
