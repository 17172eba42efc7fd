import io

import pytest
from django.core.management import CommandError, call_command

from comments.models import Article, Comment
from comments.sanitize import sanitize
from subscriptions.models import ConsentEvent, Subscriber, Subscription

pytestmark = pytest.mark.django_db


def seed(**options: object) -> str:
    out = io.StringIO()
    call_command("seed_bench", no_progress=True, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_it_adds_approved_sanitised_comments_spread_over_the_articles():
    seed(comments=25, articles=4, batch_size=7)
    comments = Comment.objects.filter(article__key__startswith="seed-")
    assert comments.count() == 25
    assert set(comments.values_list("status", flat=True)) == {"approved"}
    assert all(c.body_html == sanitize(c.body) and c.checked_at for c in comments)
    assert Article.objects.filter(key__startswith="seed-").count() == 4
    per_article = {a.pk: a.comments.count() for a in Article.objects.all()}
    assert sorted(per_article.values()) == [6, 6, 6, 7]


def test_it_adds_confirmed_daily_subscribers_each_with_a_consent_event():
    seed(subscribers=12, batch_size=5)
    subscriptions = Subscription.objects.filter(mailing_list__slug="daily")
    assert subscriptions.count() == 12
    assert set(subscriptions.values_list("status", flat=True)) == {"confirmed"}
    events = ConsentEvent.objects.filter(action="confirmed", mailing_list__slug="daily")
    assert sorted(events.values_list("subscriber_id", flat=True)) == sorted(
        subscriptions.values_list("subscriber_id", flat=True)
    )
    assert all(event.consent_version and event.consent_text for event in events)


def test_running_it_again_adds_to_what_exists():
    seed(comments=10, subscribers=3, articles=2)
    out = seed(comments=10, subscribers=3, articles=2)
    assert "Added 10 approved comments on 2 articles and 3 confirmed subscribers" in out
    assert Comment.objects.count() == 20
    assert Article.objects.filter(key__startswith="seed-").count() == 4
    assert Subscriber.objects.count() == 6


def test_it_shows_a_progress_bar_on_stderr():
    err = io.StringIO()
    call_command("seed_bench", comments=5, stdout=io.StringIO(), stderr=err)
    assert "5/5" in err.getvalue()


def test_it_refuses_a_negative_count():
    with pytest.raises(CommandError):
        seed(comments=-1)
