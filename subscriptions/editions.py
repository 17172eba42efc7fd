"""A list's daily edition: composed at the list's time, started, paused, resumed, cancelled.

Every change of an edition's state is a conditional UPDATE from the states it may leave,
so two workers (or a worker and a staff member) never both move it. Sending the edition
to its recipients is ``sending``'s; ``edition_start`` hands the edition over.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from comments import selectors as comment_selectors
from comments.models import Article
from reex.enqueue import enqueue_on_commit
from subscriptions import edition_email, selectors, sending, tasks
from subscriptions.models import Edition, EditionArticle, EditionDelivery, MailingList

logger = logging.getLogger(__name__)

State = Edition.State
Trigger = Edition.Trigger


class EditionUnderWay(Exception):
    """The list already has an edition scheduled, sending or paused."""


def max_delay() -> timedelta:
    return timedelta(hours=settings.REEX_NEWSLETTER_MAX_DELAY_HOURS)


def list_zone(*, mailing_list: MailingList) -> ZoneInfo:
    return ZoneInfo(mailing_list.time_zone)


def list_send_at(*, mailing_list: MailingList, day: date) -> datetime:
    """Return the instant (UTC) of the list's send time on ``day`` in its time zone.

    A send time that does not exist that day (clocks go forward) is read with the offset
    before the change, so it falls an hour later; one that happens twice, the first time.
    """
    local = datetime.combine(
        day, mailing_list.send_time, tzinfo=list_zone(mailing_list=mailing_list)
    )
    return local.astimezone(ZoneInfo("UTC"))


def list_today(*, mailing_list: MailingList, now: datetime) -> date:
    return now.astimezone(list_zone(mailing_list=mailing_list)).date()


@dataclass(frozen=True)
class Draft:
    """What the list's next edition would be, not saved: for composing and the preview."""

    mailing_list: MailingList
    number: int
    issue_date: date
    articles: list[Article]
    conversations: list[comment_selectors.Conversation]
    rendered: edition_email.Rendered | None


def edition_draft(
    *, mailing_list: MailingList, now: datetime, issue_date: date | None = None
) -> Draft:
    """Return the next edition as it would be composed at ``now`` (nothing is written)."""
    articles = selectors.edition_articles_new(mailing_list=mailing_list, now=now)
    conversations = []
    if articles and mailing_list.include_conversations:
        conversations = comment_selectors.conversations_liveliest(
            article_ids=[a.pk for a in articles], now=now
        )
    day = issue_date or list_today(mailing_list=mailing_list, now=now)
    number = _next_number(mailing_list=mailing_list)
    rendered = None
    if articles:
        rendered = edition_email.edition_render(
            content=edition_email.EditionContent(
                mailing_list=mailing_list,
                number=number,
                issue_date=day,
                articles=articles,
                conversations=conversations,
            )
        )
    return Draft(mailing_list, number, day, articles, conversations, rendered)


def _next_number(*, mailing_list: MailingList) -> int:
    last = Edition.objects.filter(mailing_list=mailing_list).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


def edition_compose(
    *,
    newsletter_list: MailingList,
    now: datetime,
    scheduled_for: datetime | None = None,
    issue_date: date | None = None,
) -> Edition:
    """Compose the list's scheduled edition from the articles new at ``now``, rendered once.

    With nothing new the edition is recorded as skipped.
    """
    edition = _compose(
        mailing_list=newsletter_list,
        now=now,
        trigger=Trigger.SCHEDULE,
        scheduled_for=scheduled_for,
        issue_date=issue_date,
    )
    assert edition is not None  # a scheduled edition is always recorded
    return edition


def edition_compose_now(*, newsletter_list: MailingList, now: datetime) -> Edition | None:
    """Compose an edition out of schedule (send now); None, recording nothing, if nothing new."""
    return _compose(mailing_list=newsletter_list, now=now, trigger=Trigger.MANUAL)


def _compose(
    *,
    mailing_list: MailingList,
    now: datetime,
    trigger: str,
    scheduled_for: datetime | None = None,
    issue_date: date | None = None,
) -> Edition | None:
    """Lock the list's row (composers take turns: an article never lands in two editions of
    the list), pick its new articles, render and save the edition with them."""
    with transaction.atomic():
        locked = MailingList.objects.select_for_update().get(pk=mailing_list.pk)
        draft = edition_draft(mailing_list=locked, now=now, issue_date=issue_date)
        if draft.rendered is None and trigger == Trigger.MANUAL:
            return None
        edition = Edition.objects.create(
            mailing_list=locked,
            number=draft.number,
            trigger=trigger,
            issue_date=draft.issue_date,
            scheduled_for=scheduled_for or now,
            cutoff=now,
            state=State.SCHEDULED if draft.rendered else State.SKIPPED,
            reason="" if draft.rendered else "no new articles",
            finished_at=None if draft.rendered else now,
            **(draft.rendered.fields() if draft.rendered else {}),
        )
        EditionArticle.objects.bulk_create(
            EditionArticle(edition=edition, mailing_list=locked, article=a, position=i)
            for i, a in enumerate(draft.articles)
        )
    logger.info("newsletter: %s composed with %d article(s)", edition, len(draft.articles))
    return edition


def edition_start(*, edition_id: int, now: datetime | None = None) -> bool:
    """Move a scheduled edition to sending and hand it to ``sending``; return whether it was.

    An edition past its maximum delay is not started (``editions_miss_late`` marks it).
    The hand-over runs in the same transaction, so when it fails the edition stays
    scheduled and the next ``editions_due`` tries again.
    """
    now = now or timezone.now()
    with transaction.atomic():
        moved = Edition.objects.filter(
            pk=edition_id, state=State.SCHEDULED, scheduled_for__gte=now - max_delay()
        ).update(state=State.SENDING, started_at=now)
        if not moved:
            return False
        edition = Edition.objects.select_related("mailing_list").get(pk=edition_id)
        fan_out = getattr(sending, "edition_fan_out", None)
        if fan_out is not None:
            fan_out(edition=edition)
    return True


def edition_send_now(
    *, newsletter_list: MailingList, now: datetime | None = None, in_background: bool = False
) -> Edition | None:
    """Compose the list's edition now and start it; None when there is nothing new.

    ``in_background`` starts it in a task (admin requests stay short); a lost task is
    made up by ``editions_due``. Raise EditionUnderWay when another edition of the list
    is not finished yet.
    """
    now = now or timezone.now()
    if selectors.editions_under_way().filter(mailing_list=newsletter_list).exists():
        raise EditionUnderWay(f"{newsletter_list} has an edition under way")
    edition = edition_compose_now(newsletter_list=newsletter_list, now=now)
    if edition is None:
        return None
    if in_background:
        enqueue_on_commit(tasks.start_edition, edition.pk)
    else:
        edition_start(edition_id=edition.pk, now=now)
        edition.refresh_from_db()
    return edition


def edition_preview(*, newsletter_list: MailingList, now: datetime | None = None) -> Edition | None:
    """Return the list's next edition as it would be composed now, unsaved; None if empty."""
    draft = edition_draft(mailing_list=newsletter_list, now=now or timezone.now())
    if draft.rendered is None:
        return None
    return Edition(
        mailing_list=newsletter_list,
        number=draft.number,
        issue_date=draft.issue_date,
        **draft.rendered.fields(),
    )


def edition_test_send(*, newsletter_list: MailingList, to: str) -> bool:
    """Email the next edition, as it would be composed now, to ``to``; False if empty."""
    edition = edition_preview(newsletter_list=newsletter_list)
    if edition is None:
        return False
    edition_email.edition_test_message(edition=edition, to=to).send()
    return True


# --- the schedule --------------------------------------------------------------------


def editions_due(*, now: datetime | None = None) -> list[Edition]:
    """Compose and start every list's edition whose send time has come; return them.

    Run by beat every minute. Only each list's latest send time counts: yesterday's when
    today's is still ahead, so a send time late in the evening survives midnight.
    """
    now = now or timezone.now()
    editions_miss_late(now=now)
    composed = []
    for mailing_list in MailingList.objects.order_by("pk"):
        edition = _edition_due(mailing_list=mailing_list, now=now)
        if edition is not None:
            composed.append(edition)
    for edition_id in selectors.editions_to_start(now=now, delay=max_delay()):
        edition_start(edition_id=edition_id, now=now)
    return composed


def list_last_send_time(*, mailing_list: MailingList, now: datetime) -> tuple[date, datetime]:
    """Return the day and instant of the list's latest send time not after ``now``."""
    today = list_today(mailing_list=mailing_list, now=now)
    send_at = list_send_at(mailing_list=mailing_list, day=today)
    if send_at <= now:
        return today, send_at
    yesterday = today - timedelta(days=1)
    return yesterday, list_send_at(mailing_list=mailing_list, day=yesterday)


def list_next_send_time(*, mailing_list: MailingList, now: datetime) -> datetime:
    """Return the instant of the list's next send time after ``now``."""
    today = list_today(mailing_list=mailing_list, now=now)
    send_at = list_send_at(mailing_list=mailing_list, day=today)
    if send_at > now:
        return send_at
    return list_send_at(mailing_list=mailing_list, day=today + timedelta(days=1))


def _edition_due(*, mailing_list: MailingList, now: datetime) -> Edition | None:
    """Compose the list's edition for its latest send time if it has none yet."""
    day, send_at = list_last_send_time(mailing_list=mailing_list, now=now)
    if send_at < mailing_list.created_at:
        return None
    if Edition.objects.filter(mailing_list=mailing_list, issue_date=day).exists():
        return None
    try:
        if now - send_at > max_delay():
            return _edition_missed(mailing_list=mailing_list, day=day, send_at=send_at)
        return edition_compose(
            newsletter_list=mailing_list, now=now, scheduled_for=send_at, issue_date=day
        )
    except IntegrityError:  # another worker composed it first
        return None


def _edition_missed(*, mailing_list: MailingList, day: date, send_at: datetime) -> Edition:
    """Record that the day's edition was not composed in time (beat or workers were down)."""
    with transaction.atomic():
        locked = MailingList.objects.select_for_update().get(pk=mailing_list.pk)
        return Edition.objects.create(
            mailing_list=locked,
            number=_next_number(mailing_list=locked),
            issue_date=day,
            scheduled_for=send_at,
            cutoff=send_at,
            state=State.MISSED,
            reason=_late_reason(),
            finished_at=timezone.now(),
        )


def _late_reason() -> str:
    return f"not started within {settings.REEX_NEWSLETTER_MAX_DELAY_HOURS:g} h of its time"


def editions_miss_late(*, now: datetime) -> int:
    """Mark the scheduled editions too late to start missed; their articles go back."""
    late = selectors.editions_late(now=now, delay=max_delay())
    missed = 0
    for edition_id in late:
        with transaction.atomic():
            if Edition.objects.filter(pk=edition_id, state=State.SCHEDULED).update(
                state=State.MISSED, reason=_late_reason(), finished_at=now
            ):
                EditionArticle.objects.filter(edition_id=edition_id).delete()
                missed += 1
    if missed:
        logger.warning("newsletter: %d edition(s) missed their time", missed)
    return missed


# --- staff: pause, resume, cancel ----------------------------------------------------


def edition_pause(*, edition_id: int, reason: str = "paused by staff") -> bool:
    """Pause a sending edition: workers send none of its messages until it resumes."""
    return bool(
        Edition.objects.filter(pk=edition_id, state=State.SENDING).update(
            state=State.PAUSED, reason=reason[:500]
        )
    )


def edition_resume(*, edition_id: int) -> bool:
    """Resume a paused edition where it stopped; the error count starts again."""
    with transaction.atomic():
        if not Edition.objects.filter(pk=edition_id, state=State.PAUSED).update(
            state=State.SENDING, reason="", consecutive_errors=0
        ):
            return False
        edition = Edition.objects.select_related("mailing_list").get(pk=edition_id)
        carry_on = getattr(sending, "edition_continue", None)
        if carry_on is not None:
            carry_on(edition=edition)
    return True


def edition_cancel(*, edition_id: int, reason: str = "cancelled by staff") -> bool:
    """Cancel an edition not finished: nothing more goes out.

    When no message went out yet, its articles go back to the next edition.
    """
    under_way = [State.SCHEDULED, State.SENDING, State.PAUSED]
    with transaction.atomic():
        if not Edition.objects.filter(pk=edition_id, state__in=under_way).update(
            state=State.CANCELLED, reason=reason[:500], finished_at=timezone.now()
        ):
            return False
        deliveries = EditionDelivery.objects.filter(edition_id=edition_id)
        deliveries.filter(state=EditionDelivery.State.QUEUED).update(
            state=EditionDelivery.State.SKIPPED, error="edition cancelled"
        )
        if not deliveries.filter(state=EditionDelivery.State.SENT).exists():
            EditionArticle.objects.filter(edition_id=edition_id).delete()
    return True
