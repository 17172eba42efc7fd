from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from kombu.exceptions import OperationalError

from comments import spam, tasks
from comments.spam import retraining, versions
from tests.comments.factories import UserFactory
from tests.comments.test_spam_classifier import fixture_samples

pytestmark = pytest.mark.django_db
PAGE = "/admin/comments/spammodelversion/"
RETRAIN = "/admin/comments/spammodelversion/retrain/"


@pytest.fixture(scope="module")
def model() -> spam.SpamModel:
    return spam.train(fixture_samples(), seed=0)


@pytest.fixture
def version(model):
    trained_on = {
        "n": 1234,
        "spam": 600,
        "ham": 634,
        "files": {},
        "moderators": {"n": 34, "spam": 10, "ham": 24},
    }
    evaluation = {
        "cross_validation": {
            **dict.fromkeys(spam.EVALUATION_COUNTS, 0),
            "spam_marked_spam": 555,
            "ham_held": 17,
            "precision": 0.987,
            "recall": 0.925,
            "f1": 0.955,
            "n": 1234,
            "folds": 5,
        }
    }
    return versions.spam_model_save(
        model=model, trained_on=trained_on, evaluation=evaluation, rows=[], created_by="spam_train"
    )


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


def test_moderators_see_the_current_version_its_training_and_evaluation(moderator_client, version):
    html = moderator_client.get(PAGE).content.decode()
    assert "Current version: <strong>1</strong>" in html
    assert "<strong>1234</strong> comments" in html
    assert "34 moderators" in html
    for figure in ["555", "17", "0.987", "0.925", "0.955"]:
        assert figure in html
    assert "Retrain now" in html


def test_the_page_shows_the_reversal_rate_of_the_last_30_days(moderator_client, mocker, version):
    mocker.patch.object(
        retraining,
        "spam_filter_reversals",
        return_value={
            "days": 30,
            "marked_spam": 8,
            "spam_approved": 1,
            "held": 3,
            "passed": 12,
            "passed_marked_spam": 1,
            "reversal_rate": 0.1,
        },
    )
    html = moderator_client.get(PAGE).content.decode()
    assert '<strong class="reversal-rate">10%</strong>' in html
    assert "Last 30 days: marked spam 8" in html


def test_without_a_model_the_page_says_the_rules_decide_alone(moderator_client):
    html = moderator_client.get(PAGE).content.decode()
    assert "No classifier yet" in html
    assert '<strong class="reversal-rate">-</strong>' in html


def test_the_button_queues_a_forced_retraining(moderator_client, mocker):
    delay = mocker.patch.object(tasks.retrain_spam_filter, "delay")
    response = moderator_client.post(RETRAIN, follow=True)
    assert response.status_code == HTTPStatus.OK
    delay.assert_called_once_with(True)
    assert "Retraining queued" in response.content.decode()


def test_with_the_broker_down_the_button_redirects_with_a_warning(moderator_client, mocker):
    mocker.patch.object(tasks.retrain_spam_filter, "delay", side_effect=OperationalError("refused"))
    response = moderator_client.post(RETRAIN)
    assert response.status_code == HTTPStatus.FOUND
    page = moderator_client.get(response["Location"]).content.decode()
    assert "Retraining could not be queued" in page
    assert "Retraining queued" not in page


def test_retraining_needs_a_post(moderator_client, mocker):
    delay = mocker.patch.object(tasks.retrain_spam_filter, "delay")
    assert moderator_client.get(RETRAIN).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    delay.assert_not_called()


def test_staff_without_the_permission_cannot_see_the_page_or_retrain(client, mocker):
    delay = mocker.patch.object(tasks.retrain_spam_filter, "delay")
    client.force_login(UserFactory.create(is_staff=True))
    assert client.get(PAGE).status_code == HTTPStatus.FORBIDDEN
    assert client.post(RETRAIN).status_code == HTTPStatus.FORBIDDEN
    delay.assert_not_called()


def test_viewing_without_the_retrain_permission_shows_no_button(client, mocker):
    delay = mocker.patch.object(tasks.retrain_spam_filter, "delay")
    user = UserFactory.create(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_spammodelversion"))
    client.force_login(user)
    assert "Retrain now" not in client.get(PAGE).content.decode()
    assert client.post(RETRAIN).status_code == HTTPStatus.FORBIDDEN
    delay.assert_not_called()


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(PAGE)
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_versions_cannot_be_added_changed_or_deleted(moderator_client, version, superuser_client):
    for client in (moderator_client, superuser_client):
        assert client.get(f"{PAGE}add/").status_code == HTTPStatus.FORBIDDEN
        assert client.post(f"{PAGE}{version.pk}/delete/").status_code == HTTPStatus.FORBIDDEN


def test_the_page_query_count_does_not_grow_with_versions(
    moderator_client, model, django_assert_max_num_queries
):
    for _ in range(5):
        versions.spam_model_save(
            model=model, trained_on={"n": 1}, evaluation={}, rows=[], created_by="t"
        )
    with django_assert_max_num_queries(20):
        assert moderator_client.get(PAGE).status_code == HTTPStatus.OK
