import time

import pytest

from subscriptions import tokens


def test_a_confirmation_token_names_the_subscriber_and_nonce():
    token = tokens.confirmation_token_make(subscriber_id=7, nonce="abc")
    assert tokens.confirmation_token_read(token) == tokens.ConfirmationToken(7, "abc")


@pytest.mark.parametrize(
    "change", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "x" + t]
)
def test_it_refuses_a_tampered_confirmation_token(change):
    token = tokens.confirmation_token_make(subscriber_id=7, nonce="abc")
    with pytest.raises(tokens.TokenInvalid):
        tokens.confirmation_token_read(change(token))


def test_it_refuses_garbage():
    with pytest.raises(tokens.TokenInvalid):
        tokens.confirmation_token_read("not-a-token")


def test_an_unsubscribe_token_cannot_confirm():
    token = tokens.unsubscribe_token_make(subscriber_id=7, list_id=1)
    with pytest.raises(tokens.TokenInvalid):
        tokens.confirmation_token_read(token)


def test_a_confirmation_token_expires_after_the_max_age(settings, mocker):
    settings.REEX_CONFIRMATION_MAX_AGE_HOURS = 72
    token = tokens.confirmation_token_make(subscriber_id=7, nonce="abc")
    later = time.time() + 72 * 3600 + 5
    mocker.patch("django.core.signing.time.time", return_value=later)
    with pytest.raises(tokens.TokenExpired) as caught:
        tokens.confirmation_token_read(token)
    assert caught.value.subscriber_id == 7


def test_a_confirmation_token_is_alive_just_before_the_max_age(settings, mocker):
    settings.REEX_CONFIRMATION_MAX_AGE_HOURS = 72
    token = tokens.confirmation_token_make(subscriber_id=7, nonce="abc")
    mocker.patch("django.core.signing.time.time", return_value=time.time() + 71 * 3600)
    assert tokens.confirmation_token_read(token).subscriber_id == 7


def test_an_unsubscribe_token_never_expires(mocker):
    token = tokens.unsubscribe_token_make(subscriber_id=7, list_id=3)
    mocker.patch("django.core.signing.time.time", return_value=time.time() + 10 * 365 * 86400)
    assert tokens.unsubscribe_token_read(token) == tokens.UnsubscribeToken(7, 3)


def test_an_unsubscribe_token_cannot_be_moved_to_another_list():
    mine = tokens.unsubscribe_token_make(subscriber_id=7, list_id=3)
    other = tokens.unsubscribe_token_make(subscriber_id=7, list_id=4)
    payload_of_other, signature_of_mine = other.rsplit(":", 1)[0], mine.rsplit(":", 1)[1]
    with pytest.raises(tokens.TokenInvalid):
        tokens.unsubscribe_token_read(f"{payload_of_other}:{signature_of_mine}")


def test_it_refuses_a_tampered_unsubscribe_token():
    token = tokens.unsubscribe_token_make(subscriber_id=7, list_id=3)
    with pytest.raises(tokens.TokenInvalid):
        tokens.unsubscribe_token_read(token[:-2])


@pytest.mark.parametrize(("subscriber_id", "list_id"), [(1, 1), (7, 3), (123456789, 42)])
def test_the_batch_maker_makes_the_same_unsubscribe_tokens(subscriber_id, list_id):
    make = tokens.unsubscribe_token_maker()
    token = make(subscriber_id, list_id)
    assert token == tokens.unsubscribe_token_make(subscriber_id=subscriber_id, list_id=list_id)
    read = tokens.unsubscribe_token_read(token)
    assert (read.subscriber_id, read.list_id) == (subscriber_id, list_id)


def test_the_batch_makers_tokens_follow_the_secret_key(settings):
    before = tokens.unsubscribe_token_maker()(5, 1)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    after = tokens.unsubscribe_token_maker()(5, 1)
    assert after != before
    assert after == tokens.unsubscribe_token_make(subscriber_id=5, list_id=1)
