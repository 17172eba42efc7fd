"""Bans: an address, an IP or a network; their comments go to spam; they expire."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comments import selectors
from comments.models import Ban, Comment, ModerationEvent
from comments.services import ban_create, ban_lift, comment_moderate
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db
Status = Comment.Status


def test_an_email_ban_is_stored_normalised(moderator):
    ban = ban_create(email="  Spammer@Example.ORG ", reason="spam run", created_by=moderator)
    assert (ban.email, ban.network, ban.created_by) == ("spammer@example.org", "", moderator)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("192.0.2.7", "192.0.2.7/32"),
        ("192.0.2.7/24", "192.0.2.0/24"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("2001:db8::/48", "2001:db8::/48"),
    ],
)
def test_an_address_or_network_is_stored_as_a_network(given, stored):
    assert ban_create(network=given).network == stored


@pytest.mark.parametrize("network", ["not an ip", "192.0.2.0/33", "10.0.0.0/8", "2001::/16"])
def test_a_bad_or_too_wide_network_is_refused_on_its_field(network):
    with pytest.raises(ValidationError) as error:
        ban_create(network=network)
    assert list(error.value.message_dict) == ["network"]
    assert not Ban.objects.exists()


def test_a_bad_email_is_refused_on_its_field():
    with pytest.raises(ValidationError) as error:
        ban_create(email="not-an-address")
    assert list(error.value.message_dict) == ["email"]


@pytest.mark.parametrize(("email", "network"), [("", ""), ("a@example.org", "192.0.2.1")])
def test_a_ban_names_exactly_one_target(email, network):
    with pytest.raises(ValidationError):
        ban_create(email=email, network=network)


def test_an_expiry_in_the_past_is_refused():
    with pytest.raises(ValidationError) as error:
        ban_create(email="a@example.org", expires_at=timezone.now() - timedelta(minutes=1))
    assert "expires_at" in error.value.message_dict


def test_the_active_ban_is_found_by_address_ip_or_network():
    by_email = ban_create(email="a@example.org")
    by_network = ban_create(network="198.51.100.0/24")
    assert selectors.ban_active_for(email="A@Example.org", ip=None) == by_email
    assert selectors.ban_active_for(email="b@example.org", ip="198.51.100.77") == by_network
    assert selectors.ban_active_for(email="b@example.org", ip="198.51.101.1") is None


def test_a_ban_expires_by_itself_even_while_cached():
    ban_create(email="a@example.org", expires_at=timezone.now() + timedelta(hours=1))
    assert selectors.ban_active_for(email="a@example.org", ip=None) is not None
    later = timezone.now() + timedelta(hours=2)
    assert selectors.ban_active_for(email="a@example.org", ip=None, now=later) is None


def test_a_lifted_ban_stops_at_once(moderator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ban = ban_create(email="a@example.org")
    assert selectors.ban_active_for(email="a@example.org", ip=None) == ban
    with django_capture_on_commit_callbacks(execute=True):
        ban_lift(ban=ban, actor=moderator)
    assert selectors.ban_active_for(email="a@example.org", ip=None) is None
    ban.refresh_from_db()
    assert (ban.lifted_by, ban.lifted_at is not None) == (moderator, True)


def test_a_banned_authors_comment_goes_straight_to_spam_as_banned(no_delay):
    ban_create(network="203.0.113.0/24")
    comment = CommentFactory.create(ip_address="203.0.113.7")
    comment_moderate(comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.status == Status.SPAM
    assert comment.reasons[0].startswith("banned")
    assert ModerationEvent.objects.get(comment=comment).rule == "banned"


def test_another_authors_comment_is_not_touched_by_a_ban(no_delay):
    ban_create(email="spammer@example.org")
    comment = CommentFactory.create(author_email="reader@example.org", ip_address="192.0.2.1")
    comment_moderate(comment_id=comment.pk)
    comment.refresh_from_db()
    assert comment.status == Status.APPROVED
