"""Reader pages: sign-up box, confirmation, unsubscribe, and the development outbox."""

from http import HTTPStatus
from pathlib import Path

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reex.net import SubscribeThrottle
from subscriptions import edition_email, selectors, services, tokens
from subscriptions.consent import CURRENT as CONSENT
from subscriptions.consent import Requester, requester_of
from subscriptions.forms import SubscribeForm, box_context
from subscriptions.models import ConsentEvent
from subscriptions.outbox import outbox_messages

Source = ConsentEvent.Source


def _requester(request: HttpRequest, *, source: str) -> Requester:
    return requester_of(request, source=source)


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "subscriptions/subscribe.html", box_context(SubscribeForm()))
    form = SubscribeForm(request.POST)
    if form.is_bot():
        return redirect("subscriptions:subscribe_done")
    throttle = SubscribeThrottle()
    if not throttle.allow_request(request, None):  # type: ignore[arg-type]
        wait = int(throttle.wait() or 60)
        form.add_error(None, f"Too many sign-ups from your network. Try again in {wait} s.")
        response = render(
            request,
            "subscriptions/subscribe.html",
            box_context(form),
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
        response["Retry-After"] = str(wait)
        return response
    if not form.is_valid():
        return render(
            request,
            "subscriptions/subscribe.html",
            box_context(form),
            status=HTTPStatus.BAD_REQUEST,
        )
    services.subscription_request(
        email=form.cleaned_data["email"],
        lists=form.chosen_lists(),
        consent=CONSENT,
        requester=_requester(request, source=Source.FORM),
    )
    return redirect("subscriptions:subscribe_done")


@never_cache
@require_GET
def subscribe_box(request: HttpRequest) -> HttpResponse:
    """Return the sign-up box alone, for a page that includes it."""
    return render(request, "subscriptions/_box.html", box_context(SubscribeForm()))


@require_GET
def subscribe_done(request: HttpRequest) -> HttpResponse:
    return render(request, "subscriptions/subscribe_done.html")


def _token_problem(request: HttpRequest, error: Exception, token: str) -> HttpResponse:
    if isinstance(error, tokens.TokenExpired):
        return render(
            request,
            "subscriptions/confirm_expired.html",
            {"token": token},
            status=HTTPStatus.GONE,
        )
    return render(request, "subscriptions/link_invalid.html", status=HTTPStatus.BAD_REQUEST)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Show a button on GET (mail scanners open links); only the POST confirms."""
    try:
        if request.method != "POST":
            subscriber = selectors.confirmation_subscriber(token=token)
            context = {
                "token": token,
                "subscriber": subscriber,
                "lists": selectors.lists_pending_for(subscriber=subscriber),
            }
            return render(request, "subscriptions/confirm.html", context)
        subscriber = services.subscription_confirm(
            token=token, requester=_requester(request, source=Source.FORM)
        )
    except (tokens.TokenInvalid, tokens.TokenExpired) as error:
        return _token_problem(request, error, token)
    subscriptions = selectors.subscriptions_of(subscriber_id=subscriber.pk)
    return render(request, "subscriptions/welcome.html", {"subscriptions": subscriptions})


@never_cache
@require_POST
def confirm_resend(request: HttpRequest, token: str) -> HttpResponse:
    try:
        content = tokens.confirmation_token_read(token, check_age=False)
    except tokens.TokenInvalid:
        return render(request, "subscriptions/link_invalid.html", status=HTTPStatus.BAD_REQUEST)
    services.confirmation_resend(
        subscriber_id=content.subscriber_id,
        requester=_requester(request, source=Source.FORM),
    )
    return render(request, "subscriptions/confirm_resent.html")


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button; any POST (RFC 8058 one-click or the button) acts at once.

    No CSRF token, cookie or login: mail providers POST here on the reader's behalf.
    """
    try:
        if request.method != "POST":
            content = tokens.unsubscribe_token_read(token)
            return _unsubscribe_page(request, content=content, token=token)
        # The page's own button says so; anything else is a mail client's one-click.
        source = Source.FORM if request.POST.get("via") == "page" else Source.EMAIL
        content = services.subscription_unsubscribe_by_token(
            token=token,
            everything=request.POST.get("all") == "1",
            requester=_requester(request, source=source),
        )
    except tokens.TokenInvalid:
        return render(request, "subscriptions/link_invalid.html", status=HTTPStatus.BAD_REQUEST)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        # A mail provider's RFC 8058 POST: no reader sees the answer, so no page is built.
        return HttpResponse("You are unsubscribed.\n", content_type="text/plain; charset=utf-8")
    subscriptions = selectors.subscriptions_of(subscriber_id=content.subscriber_id)
    return render(request, "subscriptions/unsubscribed.html", {"subscriptions": subscriptions})


def _unsubscribe_page(
    request: HttpRequest, *, content: tokens.UnsubscribeToken, token: str
) -> HttpResponse:
    subscriptions = list(selectors.subscriptions_of(subscriber_id=content.subscriber_id))
    if not subscriptions:
        return render(request, "subscriptions/link_invalid.html", status=HTTPStatus.BAD_REQUEST)
    this = next((s for s in subscriptions if s.mailing_list_id == content.list_id), None)
    others = [s for s in subscriptions if s is not this and s.status != s.Status.UNSUBSCRIBED]
    context = {"token": token, "this": this, "others": others}
    return render(request, "subscriptions/unsubscribe.html", context)


@never_cache
@require_GET
def dev_outbox(request: HttpRequest) -> HttpResponse:
    """List the mail written to files: development only (DEBUG on, EMAIL_URL unset)."""
    if not settings.DEBUG or settings.EMAIL_URL:
        raise Http404("The outbox exists only in development.")
    mails = outbox_messages(folder=Path(settings.EMAIL_FILE_PATH))
    return render(request, "subscriptions/outbox.html", {"mails": mails})


ARCHIVE_PAGE_SIZE = 30


@require_GET
@cache_control(public=True, max_age=300)
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    """List a public list's past editions, newest first."""
    mailing_list = selectors.list_public_get(slug=slug)
    if mailing_list is None:
        raise Http404("No such list.")
    paginator = Paginator(selectors.editions_archived(mailing_list=mailing_list), ARCHIVE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request, "subscriptions/archive.html", {"mailing_list": mailing_list, "page": page}
    )


# The edition is the email's own HTML: inline styles, and images from the articles' hosts.
@require_GET
@cache_control(public=True, max_age=300)
@csp_update({"style-src": [UNSAFE_INLINE], "img-src": ["https:", "http:"]})  # type: ignore[arg-type]
def archive_edition(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Show one edition as it was emailed, without the recipient's personal links."""
    mailing_list = selectors.list_public_get(slug=slug)
    edition = (
        selectors.edition_archived(mailing_list=mailing_list, number=number)
        if mailing_list
        else None
    )
    if edition is None:
        raise Http404("No such edition.")
    return HttpResponse(edition_email.edition_public_html(edition=edition))
