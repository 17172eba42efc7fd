import subprocess
import sys
from http import HTTPStatus

import pytest
from prometheus_client.parser import text_string_to_metric_families

from comments.models import Comment
from comments.services import comment_moderate
from reex import metrics
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def scrape(client, **extra) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain; version=")
    families = text_string_to_metric_families(response.content.decode())
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def requests_to_healthz(samples) -> float:
    labels = (("method", "GET"), ("status", "200"), ("view", "healthz"))
    return samples.get(("reex_http_requests_total", labels), 0.0)


def test_it_counts_requests_by_view_and_status(client):
    before = requests_to_healthz(scrape(client))

    client.get("/healthz")
    client.get("/healthz")

    assert requests_to_healthz(scrape(client)) == before + 2


def test_it_counts_right_past_the_labelled_children_it_keeps(client, monkeypatch):
    monkeypatch.setattr(metrics, "MAX_CHILDREN", 1)
    before = requests_to_healthz(scrape(client))

    for _ in range(3):
        client.get("/healthz")
        client.get("/no-such-page")

    assert requests_to_healthz(scrape(client)) == before + 3


def test_it_times_requests_by_view(client):
    client.get("/healthz")

    samples = scrape(client)

    assert samples[("reex_http_request_duration_seconds_count", (("view", "healthz"),))] >= 1


def test_it_reports_the_comments_waiting_for_the_checks(client):
    CommentFactory.create_batch(3)
    CommentFactory.create(status=Comment.Status.APPROVED)

    assert scrape(client)[("reex_comments_unchecked", ())] == 3


def test_it_counts_decisions_by_outcome_once_committed(client, django_capture_on_commit_callbacks):
    key = ("reex_comments_decided_total", (("outcome", "approved"),))
    before = scrape(client).get(key, 0.0)
    comment = CommentFactory.create(body="A thoughtful remark about the article.")

    with django_capture_on_commit_callbacks(execute=True):
        comment_moderate(comment_id=comment.pk)

    comment.refresh_from_db()
    assert comment.status == Comment.Status.APPROVED
    assert scrape(client)[key] == before + 1


def test_it_adds_up_counters_from_other_processes(client):
    key = ("reex_emails_sent_total", (("kind", "from-another-process"),))
    before = scrape(client).get(key, 0.0)
    code = "import django; django.setup(); from reex import metrics; "
    code += "metrics.EMAILS_SENT.labels('from-another-process').inc(3)"

    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

    assert scrape(client)[key] == before + 3


def test_it_refuses_an_address_outside_the_allowed_networks(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_it_answers_anyone_with_the_token(client, settings):
    settings.REEX_METRICS_TOKEN = "s3cret-token"

    samples = scrape(client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")

    assert ("reex_comments_unchecked", ()) in samples


def test_it_refuses_a_wrong_token(client, settings):
    settings.REEX_METRICS_TOKEN = "s3cret-token"

    response = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer guessed"
    )

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_with_metrics_off_the_endpoint_is_not_found(client, settings):
    settings.REEX_METRICS = False

    assert client.get("/metrics").status_code == HTTPStatus.NOT_FOUND
