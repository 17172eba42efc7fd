"""Bans: an address, an IP or a network whose comments go straight to spam."""

import ipaddress
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from comments.models import Ban, Comment
from comments.selectors import bans_cache_forget, bans_not_lifted
from comments.services.transitions import Actor, actor_user
from reex.addresses import email_clean

# Wider networks would ban whole providers or countries: refuse them.
NARROWEST_PREFIX = {4: 16, 6: 32}


def ban_network_clean(value: str) -> str:
    """Return an IP address or CIDR network as stored ("192.0.2.1/32"); raise ValidationError."""
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as error:
        raise ValidationError("Enter an IP address or a network such as 192.0.2.0/24.") from error
    least = NARROWEST_PREFIX[network.version]
    if network.prefixlen < least:
        raise ValidationError(f"A network this wide bans too many readers (at least /{least}).")
    return str(network)


def ban_target_clean(*, email: str, network: str) -> dict[str, str]:
    """Return the ban's email and network as stored; raise ValidationError by field."""
    email, network = email.strip(), network.strip()
    if bool(email) == bool(network):
        message = "Ban either an email address or an IP address or network."
        raise ValidationError({"email": [message], "network": [message]})
    errors: dict[str, list[str]] = {}
    try:
        email = email_clean(email) if email else ""
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    try:
        network = ban_network_clean(network) if network else ""
    except ValidationError as error:
        errors["network"] = error.messages
    if errors:
        raise ValidationError(errors)
    return {"email": email, "network": network}


@transaction.atomic
def ban_create(
    *,
    email: str = "",
    network: str = "",
    reason: str = "",
    expires_at: datetime | None = None,
    created_by: Actor = None,
) -> Ban:
    """Ban an email address, or an IP address or network, until ``expires_at`` (None: for good)."""
    ban = Ban(
        **ban_target_clean(email=email, network=network),
        reason=reason.strip(),
        expires_at=expires_at,
    )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["Choose a time in the future."]})
    ban.created_by = actor_user(created_by)
    ban.full_clean()
    ban.save()
    transaction.on_commit(bans_cache_forget)
    return ban


@transaction.atomic
def ban_update(*, ban: Ban, reason: str, expires_at: datetime | None) -> Ban:
    """Change a ban's reason or end (None: for good); what it bans stays."""
    ban.reason, ban.expires_at = reason.strip(), expires_at
    ban.full_clean()
    ban.save(update_fields=["reason", "expires_at"])
    transaction.on_commit(bans_cache_forget)
    return ban


@transaction.atomic
def ban_lift(*, ban: Ban, actor: Actor) -> Ban:
    """End a ban now (it stays listed, lifted, for the record)."""
    if ban.lifted_at is None:
        ban.lifted_at, ban.lifted_by = timezone.now(), actor_user(actor)
        ban.save(update_fields=["lifted_at", "lifted_by"])
        transaction.on_commit(bans_cache_forget)
    return ban


def ban_comment_author(
    *,
    comment: Comment,
    by: str,
    reason: str = "",
    expires_at: datetime | None = None,
    created_by: Actor = None,
) -> Ban:
    """Ban a comment's author by ``by`` "email" or "ip"; an active ban of it is returned as is."""
    if by not in ("email", "ip"):
        raise ValueError("Ban by email or ip.")
    if by == "ip" and not comment.ip_address:
        raise ValidationError({"network": ["This comment has no IP address (it was cleared)."]})
    ip = comment.ip_address or ""
    target = {"email": comment.author_email} if by == "email" else {"network": ip}
    existing = _active_ban_of(**target)
    if existing is not None:
        return existing
    reason = reason or f"Author of comment {comment.pk}."
    return ban_create(**target, reason=reason, expires_at=expires_at, created_by=created_by)


def _active_ban_of(*, email: str = "", network: str = "") -> Ban | None:
    found = bans_not_lifted()
    if email:
        return found.filter(email=email_clean(email)).first()
    return found.filter(network=ban_network_clean(network or "")).first()
