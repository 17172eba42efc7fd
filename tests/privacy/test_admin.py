import json
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group

from comments.models import Comment
from privacy.models import PersonalDataRequest
from subscriptions.models import Subscriber
from tests.comments.factories import UserFactory
from tests.privacy.conftest import OTHER, Person

pytestmark = pytest.mark.django_db
COMMENTS = "/admin/comments/comment/"
SUBSCRIBERS = "/admin/subscriptions/subscriber/"
ACTIONS = ["export_personal_data", "erase_personal_data"]


def post_action(client, url: str, action: str, pks: list[int], **extra: str):
    return client.post(url, {"action": action, "_selected_action": pks, **extra})


@pytest.fixture
def officer_client(client, data_officer):
    client.force_login(data_officer)
    return client


@pytest.mark.parametrize("url", [COMMENTS, SUBSCRIBERS])
def test_data_officers_see_both_actions(officer_client, ann: Person, url: str):
    html = officer_client.get(url).content.decode()
    for action in ACTIONS:
        assert f'value="{action}"' in html


@pytest.mark.parametrize("url", [COMMENTS, SUBSCRIBERS])
def test_plain_staff_do_not_see_them(client, plain_staff, ann: Person, url: str):
    client.force_login(plain_staff)
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    for action in ACTIONS:
        assert f'value="{action}"' not in response.content.decode()


@pytest.mark.parametrize("action", ACTIONS)
def test_plain_staff_cannot_run_them_by_posting(client, plain_staff, ann: Person, action: str):
    client.force_login(plain_staff)
    response = post_action(client, COMMENTS, action, [ann.approved.pk], post="yes")
    # Django runs only the actions the user may run: this is just the list again.
    assert response.status_code == HTTPStatus.OK
    assert "privacy/erase_confirmation.html" not in [t.name for t in response.templates]
    assert "attachment" not in response.get("Content-Disposition", "")
    assert not PersonalDataRequest.objects.exists()
    assert Comment.objects.get(pk=ann.approved.pk).author_email == ann.email.lower()


def test_moderators_do_not_get_the_privacy_permissions():
    moderators = Group.objects.get(name="Moderators").permissions
    assert not moderators.filter(content_type__app_label="privacy").exists()


def test_the_data_officers_group_starts_empty_with_the_privacy_permissions():
    group = Group.objects.get(name="Data officers")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"export_personal_data", "erase_personal_data"} <= codenames
    assert not group.user_set.exists()


def test_export_from_the_comment_list_downloads_json(officer_client, data_officer, ann: Person):
    response = post_action(officer_client, COMMENTS, "export_personal_data", [ann.pending.pk])
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    exports = json.loads(response.content)
    assert len(exports) == 1
    assert {c["id"] for c in exports[0]["comments"]} == {ann.approved.pk, ann.pending.pk}
    record = PersonalDataRequest.objects.get()
    assert (record.actor, record.via) == (data_officer, PersonalDataRequest.Via.ADMIN)


def test_export_gives_one_entry_per_address(officer_client, ann: Person, bob: Person):
    pks = [ann.approved.pk, ann.pending.pk, bob.approved.pk]
    exports = json.loads(post_action(officer_client, COMMENTS, "export_personal_data", pks).content)
    assert sorted(e["email"].lower() for e in exports) == ["ann.reader@example.org", OTHER]


def test_export_from_the_subscriber_list(officer_client, ann: Person):
    response = post_action(officer_client, SUBSCRIBERS, "export_personal_data", [ann.subscriber.pk])
    export = json.loads(response.content)[0]
    assert export["newsletter"]["email"] == ann.email
    assert len(export["comments"]) == 2


def test_erase_first_asks_for_confirmation(officer_client, ann: Person):
    response = post_action(officer_client, COMMENTS, "erase_personal_data", [ann.approved.pk])
    assert response.status_code == HTTPStatus.OK
    assert "privacy/erase_confirmation.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert ann.email.lower() in html
    assert 'name="post" value="yes"' in html
    assert 'value="erase_personal_data"' in html
    assert Comment.objects.get(pk=ann.approved.pk).author_email == ann.email.lower()
    assert not PersonalDataRequest.objects.exists()


def test_erase_once_confirmed_erases_and_audits(officer_client, data_officer, ann: Person):
    response = post_action(
        officer_client, COMMENTS, "erase_personal_data", [ann.approved.pk], post="yes"
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Comment.objects.get(pk=ann.approved.pk).author_name == "Anonymous"
    assert not Subscriber.objects.filter(pk=ann.subscriber.pk).exists()
    record = PersonalDataRequest.objects.get()
    assert (record.action, record.actor) == (PersonalDataRequest.Action.ERASE, data_officer)


def test_erase_from_the_subscriber_list(officer_client, ann: Person, bob: Person):
    response = post_action(
        officer_client, SUBSCRIBERS, "erase_personal_data", [ann.subscriber.pk], post="yes"
    )
    assert response.status_code == HTTPStatus.FOUND
    assert list(Subscriber.objects.values_list("pk", flat=True)) == [bob.subscriber.pk]
    assert Comment.objects.get(pk=ann.pending.pk).author_email == ""


def test_an_already_anonymised_selection_is_reported(officer_client, ann: Person):
    Comment.objects.filter(pk=ann.approved.pk).update(author_email="")
    data = {"action": "erase_personal_data", "_selected_action": [ann.approved.pk]}
    response = officer_client.post(COMMENTS, data, follow=True)
    assert "No address in the selection." in response.content.decode()


def test_superusers_can_run_them(client, ann: Person):
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    response = post_action(client, COMMENTS, "export_personal_data", [ann.approved.pk])
    assert response.status_code == HTTPStatus.OK


def test_the_audit_is_read_only(client, ann: Person):
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    post_action(client, COMMENTS, "export_personal_data", [ann.approved.pk])
    record = PersonalDataRequest.objects.get()
    assert client.get("/admin/privacy/personaldatarequest/").status_code == HTTPStatus.OK
    assert client.get("/admin/privacy/personaldatarequest/add/").status_code == (
        HTTPStatus.FORBIDDEN
    )
    url = f"/admin/privacy/personaldatarequest/{record.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert PersonalDataRequest.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_moderators_cannot_run_them_either(client, ann: Person, action: str):
    moderator = UserFactory.create(username="mod", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(moderator)
    assert f'value="{action}"' not in client.get(COMMENTS).content.decode()
    data = {"action": action, "index": "0", "_selected_action": [ann.approved.pk], "post": "yes"}
    response = client.post(COMMENTS, data, follow=True)
    assert "No action selected." in response.content.decode()
    assert not PersonalDataRequest.objects.exists()
    assert Comment.objects.get(pk=ann.approved.pk).author_email == ann.email.lower()
