"""The newsletter in admin: schedule fields, preview, test, send now, pause/resume/cancel."""

from datetime import time, timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from subscriptions import sending
from subscriptions.models import Edition, EditionArticle, EditionDelivery, MailingList
from tests.factories import ArticleFactory, EditionFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
State = Edition.State


@pytest.fixture(autouse=True)
def _sending(monkeypatch):
    handed: dict[str, list[int]] = {"fan_out": [], "continue": []}
    monkeypatch.setattr(
        sending,
        "edition_fan_out",
        lambda *, edition: handed["fan_out"].append(edition.pk),
        raising=False,
    )
    monkeypatch.setattr(
        sending,
        "edition_continue",
        lambda *, edition: handed["continue"].append(edition.pk),
        raising=False,
    )
    return handed


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.org", "pw"))
    return client


@pytest.fixture
def viewer(client):
    """Staff who may look at lists and editions but not send."""
    user = User.objects.create_user("viewer", "viewer@example.org", "pw", is_staff=True)
    codenames = ["view_mailinglist", "change_mailinglist", "view_edition"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def fresh(daily) -> MailingList:
    MailingList.objects.filter(pk=daily.pk).update(created_at=timezone.now() - timedelta(days=2))
    daily.refresh_from_db()
    return daily


def news(title: str = "Yttrium rally") -> None:
    ArticleFactory.create(title=title, published_at=timezone.now() - timedelta(hours=1))


def list_url(mailing_list: MailingList) -> str:
    return reverse("admin:subscriptions_mailinglist_change", args=[mailing_list.pk])


def act(client, model: str, action: str, ids: list[int]):
    url = reverse(f"admin:subscriptions_{model}_changelist")
    return client.post(url, {"action": action, "_selected_action": ids}, follow=True)


def test_the_schedule_fields_are_editable(boss, fresh):
    response = boss.post(
        list_url(fresh),
        {
            "name": fresh.name,
            "description": "",
            "is_public": "on",
            "send_time": "06:30",
            "time_zone": "America/New_York",
            "include_conversations": "on",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    fresh.refresh_from_db()
    assert (fresh.send_time, fresh.time_zone, fresh.include_conversations) == (
        time(6, 30),
        "America/New_York",
        True,
    )


def test_an_unknown_time_zone_is_a_field_error(boss, fresh):
    response = boss.post(
        list_url(fresh),
        {"name": fresh.name, "send_time": "06:30", "time_zone": "Mars/Olympus", "is_public": "on"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "time_zone" in response.context["adminform"].form.errors


def test_the_list_page_links_to_the_preview_of_the_next_edition(boss, fresh):
    body = boss.get(list_url(fresh)).content.decode()
    preview = reverse("admin:subscriptions_mailinglist_preview", args=[fresh.pk])
    assert f'href="{preview}"' in body
    assert f'href="{preview}?format=text"' in body


def test_the_preview_shows_the_next_edition_without_saving_it(boss, fresh):
    news("Yttrium rally")
    url = reverse("admin:subscriptions_mailinglist_preview", args=[fresh.pk])
    html = boss.get(url)
    text = boss.get(url + "?format=text")
    assert html.status_code == HTTPStatus.OK
    assert "Yttrium rally" in html.content.decode()
    assert "boss@example.org" in html.content.decode()  # the placeholder, as the viewer
    assert "style-src 'self' 'unsafe-inline'" in html["Content-Security-Policy"]
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert "Yttrium rally" in text.content.decode()
    assert not Edition.objects.exists()


def test_the_preview_says_when_nothing_is_new(boss, fresh):
    url = reverse("admin:subscriptions_mailinglist_preview", args=[fresh.pk])
    assert b"would be skipped" in boss.get(url).content


def test_send_a_test_to_me_mails_the_staff_member_only(boss, fresh, mailoutbox):
    news()
    SubscriptionFactory.create(mailing_list=fresh, status="confirmed")
    act(boss, "mailinglist", "send_test_to_me", [fresh.pk])
    (message,) = mailoutbox
    assert message.to == ["boss@example.org"]
    assert message.subject == "[Test] Daily News Update: Yttrium rally"
    assert not Edition.objects.exists()


def test_send_now_composes_and_starts_the_edition(boss, fresh, _sending, mocker):
    mocker.patch("subscriptions.tasks.start_edition.delay")
    news()
    with_commit = act(boss, "mailinglist", "send_now", [fresh.pk])
    edition = Edition.objects.get()
    assert edition.trigger == Edition.Trigger.MANUAL
    assert edition.state == State.SCHEDULED  # started by the task, after the request
    assert f"{edition}: starting." in with_commit.content.decode()


def test_send_now_starts_in_a_task_after_commit(
    boss, fresh, django_capture_on_commit_callbacks, mocker
):
    news()
    start = mocker.patch("subscriptions.tasks.start_edition.delay")
    with django_capture_on_commit_callbacks(execute=True):
        act(boss, "mailinglist", "send_now", [fresh.pk])
    start.assert_called_once_with(Edition.objects.get().pk)


def test_send_now_with_nothing_new_says_so(boss, fresh):
    response = act(boss, "mailinglist", "send_now", [fresh.pk])
    assert "nothing new to send" in response.content.decode()
    assert not Edition.objects.exists()


def test_staff_without_the_permission_cannot_send(viewer, fresh, mailoutbox):
    news()
    response = act(viewer, "mailinglist", "send_now", [fresh.pk])
    assert response.status_code == HTTPStatus.OK
    act(viewer, "mailinglist", "send_test_to_me", [fresh.pk])
    assert not Edition.objects.exists()
    assert mailoutbox == []


def sending_edition(daily: MailingList, **fields) -> Edition:
    return EditionFactory.create(
        mailing_list=daily, state=State.SENDING, started_at=timezone.now(), **fields
    )


def test_pause_resume_and_cancel_move_the_edition(boss, daily, _sending):
    edition = sending_edition(daily)
    act(boss, "edition", "pause", [edition.pk])
    edition.refresh_from_db()
    assert edition.state == State.PAUSED
    act(boss, "edition", "resume", [edition.pk])
    edition.refresh_from_db()
    assert edition.state == State.SENDING
    assert _sending["continue"] == [edition.pk]
    act(boss, "edition", "cancel", [edition.pk])
    edition.refresh_from_db()
    assert edition.state == State.CANCELLED


def test_an_action_that_does_not_apply_changes_nothing(boss, daily):
    sent = EditionFactory.create(mailing_list=daily, state=State.SENT)
    response = act(boss, "edition", "pause", [sent.pk])
    sent.refresh_from_db()
    assert sent.state == State.SENT
    assert "0 edition(s) paused; 1 could not be." in response.content.decode()


def test_staff_without_the_permission_cannot_pause(viewer, daily):
    edition = sending_edition(daily)
    act(viewer, "edition", "pause", [edition.pk])
    edition.refresh_from_db()
    assert edition.state == State.SENDING


def test_the_edition_list_shows_counts_and_progress(boss, daily, django_assert_max_num_queries):
    edition = sending_edition(daily)
    EditionFactory.create(mailing_list=daily, state=State.SENT, recipients=5, sent=5)
    subscriptions = SubscriptionFactory.create_batch(4, mailing_list=daily)
    EditionDelivery.objects.bulk_create(
        EditionDelivery(
            edition=edition,
            subscriber_id=s.subscriber_id,
            state=EditionDelivery.State.SENT if n else EditionDelivery.State.QUEUED,
        )
        for n, s in enumerate(subscriptions)
    )
    with django_assert_max_num_queries(12):
        response = boss.get(reverse("admin:subscriptions_edition_changelist"))
    body = response.content.decode()
    assert '<td class="field-remaining">1</td>' in body
    assert '<td class="field-progress">75 %' in body
    assert '<td class="field-progress">100 %</td>' in body


def test_the_edition_page_links_to_its_html_and_text(boss, daily):
    edition = EditionFactory.create(
        mailing_list=daily, state=State.SENT, html="<p>Hello %%reex:email%%</p>", text="Hi"
    )
    page = boss.get(reverse("admin:subscriptions_edition_change", args=[edition.pk]))
    content = reverse("admin:subscriptions_edition_content", args=[edition.pk])
    assert f'href="{content}"' in page.content.decode()
    assert boss.get(content).content == b"<p>Hello boss@example.org</p>"
    assert boss.get(content + "?format=text").content == b"Hi"


def test_cancelling_before_anything_went_out_gives_the_articles_back(boss, daily):
    edition = EditionFactory.create(mailing_list=daily, state=State.SCHEDULED)
    article = ArticleFactory.create()
    EditionArticle.objects.create(edition=edition, mailing_list=daily, article=article)
    act(boss, "edition", "cancel", [edition.pk])
    assert not EditionArticle.objects.exists()


def test_staff_who_may_not_view_editions_get_no_preview(client, fresh):
    user = User.objects.create_user("clerk", "clerk@example.org", "pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_mailinglist"))
    client.force_login(user)
    news()
    url = reverse("admin:subscriptions_mailinglist_preview", args=[fresh.pk])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
