"""Sending an edition to each recipient once: the fan-out, the batches, the sweep.

The EditionDelivery rows are the queue. A batch task claims up to REEX_SEND_BATCH rows
with a lease (``claimed_until``, renewed as it goes), sends each over one kept SMTP
connection (or a batch call to the provider, ``edition_provider``), and marks each row
before the next message. A worker killed mid-batch leaves its rows ``sending``; once the
lease lapses another task claims them. The one message in flight at the kill (sent, not
yet marked) then goes a second time: at most one per killed worker.
"""

import logging
import math
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.utils import timezone

from reex.db import commits_unflushed
from reex.enqueue import enqueue
from subscriptions import edition_delivery, edition_provider, sql, tasks
from subscriptions.edition_delivery import Claim
from subscriptions.models import Edition, EditionDelivery

logger = logging.getLogger(__name__)

State = EditionDelivery.State
# Batch tasks of one edition on the broker at a time: enough for the worker processes of
# a large site (each lane is one process sending at a time).
SEND_LANES = 8


def edition_fan_out(*, edition: Edition) -> int:
    """Fix the recipients of an edition that starts and queue its batches; return how many.

    One delivery row per confirmed, unsuppressed subscriber of the list at this moment,
    inserted in one statement. Recipients are fixed once: a second run (or a concurrent
    one, which waits on the unique index and adds nothing) only queues the batches again.
    """
    with transaction.atomic():
        locked = Edition.objects.select_for_update().get(pk=edition.pk)
        if locked.state not in (Edition.State.SCHEDULED, Edition.State.SENDING):
            return locked.recipients
        if not EditionDelivery.objects.filter(edition=locked).exists():
            sql.edition_recipients_insert(edition_id=locked.pk, list_id=locked.mailing_list_id)
        recipients = EditionDelivery.objects.filter(edition=locked).count()
        Edition.objects.filter(pk=locked.pk).update(
            state=Edition.State.SENDING,
            started_at=Coalesce(F("started_at"), timezone.now()),
            recipients=recipients,
        )
        edition_continue(edition=locked)
    edition.refresh_from_db()
    return recipients


def edition_continue(*, edition: Edition) -> None:
    """Queue the batch tasks of an edition once the current transaction commits (resume)."""
    transaction.on_commit(partial(edition_enqueue, edition_id=edition.pk))


def edition_enqueue(*, edition_id: int) -> int:
    """Start up to SEND_LANES chains of batch tasks; return how many went on the broker.

    Each task queues its successor while rows wait (``_claim_close``), so a lane runs
    until the edition is done whatever batch size each process was configured with.
    With the broker down the rows wait for the sweep (``editions_requeue``).
    """
    free = EditionDelivery.objects.filter(edition_id=edition_id, state=State.QUEUED).count()
    queued = 0
    for _ in range(min(math.ceil(free / settings.REEX_SEND_BATCH), SEND_LANES)):
        if not enqueue(tasks.send_edition_batch, edition_id):
            break
        queued += 1
    return queued


def edition_batch_send(*, edition_id: int) -> int:
    """Claim a batch of the edition's rows and send them; return how many went out."""
    edition = Edition.objects.select_related("mailing_list").get(pk=edition_id)
    if edition.state != Edition.State.SENDING:
        return 0
    now = timezone.now()
    until = now + timedelta(seconds=settings.REEX_SEND_LEASE_SECONDS)
    rows = sql.edition_deliveries_claim(
        edition_id=edition_id, limit=settings.REEX_SEND_BATCH, now=now, until=until
    )
    claim = Claim(edition=edition, rows=rows, until=until)
    if not rows:
        # Nothing to send, but rows may wait still: a claim whose every row was skipped
        # (addresses lost since the fan-out) must hand the lane on, not end it.
        _claim_close(claim)
        return 0
    try:
        with commits_unflushed():  # a mark per email: see docs/newsletter.md
            if edition_provider.batch_available():
                edition_provider.claim_send_batched(claim)
            else:
                edition_delivery.claim_send(claim)
    finally:
        _claim_close(claim)
    return claim.sent


def _claim_close(claim: Claim) -> None:
    """Count the batch on the edition; queue the lane's next task or finish the edition."""
    edition_id = claim.edition.pk
    Edition.objects.filter(pk=edition_id).update(
        sent=F("sent") + claim.sent, failed=F("failed") + claim.failed
    )
    if EditionDelivery.objects.filter(edition_id=edition_id, state=State.QUEUED).exists():
        enqueue(tasks.send_edition_batch, edition_id)  # a paused edition's task stops there
    else:
        edition_finish_if_done(edition_id=edition_id)


def edition_finish_if_done(*, edition_id: int) -> bool:
    """Mark a sending edition sent once no row is queued or sending; count it exactly."""
    busy = EditionDelivery.objects.filter(
        edition_id=edition_id, state__in=[State.QUEUED, State.SENDING]
    )
    if busy.exists():
        return False
    counts = _state_counts(edition_id)
    done = Edition.objects.filter(pk=edition_id, state=Edition.State.SENDING).update(
        state=Edition.State.SENT,
        finished_at=timezone.now(),
        sent=counts.get(State.SENT, 0),
        failed=counts.get(State.FAILED, 0),
    )
    return bool(done)


def _state_counts(edition_id: int) -> dict[str, int]:
    grouped = (
        EditionDelivery.objects.filter(edition_id=edition_id)
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["state"]: row["n"] for row in grouped}


def editions_requeue() -> int:
    """The sweep: free the rows of dead workers and queue tasks for editions left waiting.

    Return how many tasks it queued. An edition with a live claim is being sent; one with
    free rows and none is waiting for lost tasks (broker restart, outage).
    """
    queued = 0
    now = timezone.now()
    for edition_id in Edition.objects.filter(state=Edition.State.SENDING).values_list(
        "pk", flat=True
    ):
        rows = EditionDelivery.objects.filter(edition_id=edition_id)
        rows.filter(state=State.SENDING, claimed_until__lt=now).update(
            state=State.QUEUED, claimed_until=None
        )
        if rows.filter(state=State.SENDING).exists():
            continue
        if not edition_finish_if_done(edition_id=edition_id):
            queued += edition_enqueue(edition_id=edition_id)
    return queued
