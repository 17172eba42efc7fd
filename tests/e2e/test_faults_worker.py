"""A Celery worker SIGKILLed in the middle of a task: another worker runs it again and
its effect happens once (acks_late, reject_on_worker_lost, Redis visibility timeout)."""

import json
import re
import time
import uuid
from http import HTTPStatus

import pytest

from tests.faults.support import StallingAkismet, call, new_article

# Bounded: a fault that is not recovered from fails the test instead of hanging it.
pytestmark = pytest.mark.timeout(150)

VISIBILITY_TIMEOUT = 3


def test_a_moderation_cut_short_by_a_killed_worker_runs_again_on_another_worker_once(stack):
    article = new_article(stack)
    akismet = StallingAkismet()
    # Moderation asks this Akismet, which holds the first check until the worker is dead.
    env = {
        "AKISMET_API_KEY": "test-key",
        "AKISMET_SITE_URL": "http://127.0.0.1/",
        "AKISMET_API_URL": akismet.url,
        "REEX_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    }
    stack.stop_process("worker")  # the stack's worker has no Akismet: keep it out of the way
    workers = [stack.start_worker(name="worker-a", **env)]
    try:
        payload = {"author_name": "Kay", "author_email": f"kay-{uuid.uuid4().hex[:6]}@example.org",
                   "body": "Cut short, then done once"}  # fmt: skip
        url = f"{stack.base_url}/api/v1/articles/{article['key']}/comments/"
        status, _, body = call(url, payload=payload)
        assert status == HTTPStatus.ACCEPTED
        comment_id = json.loads(body)["id"]
        assert akismet.first_arrived.wait(timeout=60), workers[0].describe()
        fetched = time.monotonic()

        workers[0].stop(kill=True)  # SIGKILL to the whole worker, pool and all
        assert stack.sql(
            "SELECT status, checked_at FROM comments_comment WHERE id = %s", (comment_id,)
        ) == [("pending", None)]  # the killed worker's claim rolled back with its connection
        # kombu's Redis transport hands back an unacknowledged message once it is older
        # than the visibility timeout; a worker scans for them as it starts (and about
        # every 100 s after), so B starts once the message has become visible again.
        time.sleep(max(0.0, fetched + VISIBILITY_TIMEOUT + 1 - time.monotonic()))
        workers.append(stack.start_worker(name="worker-b", **env))

        stack.wait_until(
            lambda: stack.sql(
                "SELECT 1 FROM comments_comment WHERE id = %s AND status = 'approved'",
                (comment_id,),
            ),
            timeout=60,
        )
        assert len(akismet.checks) == 2
        events = stack.sql(
            "SELECT action, to_status FROM comments_moderationevent WHERE comment_id = %s",
            (comment_id,),
        )
        assert events == [("check", "approved")]
        # The very message A had taken ran on B.
        taken = re.search(r"moderate_comment\[([0-9a-f-]+)\] received", workers[0].output())
        assert taken, workers[0].describe()
        # B logs the success after the commit the query above saw: wait for the line.
        succeeded = f"moderate_comment[{taken[1]}] succeeded"
        stack.wait_until(lambda: succeeded in workers[1].output(), timeout=30)
    finally:
        for worker in workers:
            worker.stop(kill=True)
        akismet.stop()
