"""Read the development mailbox: the files Django's file email backend writes."""

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

_SEPARATOR = "\n" + "-" * 79 + "\n"
_LINK = re.compile(r"https?://[^\s<>\"')]+")
MAX_MESSAGES = 100


@dataclass(frozen=True)
class OutboxMessage:
    subject: str
    to: str
    date: str
    text: str
    links: list[str]


def outbox_messages(*, folder: Path) -> list[OutboxMessage]:
    """Return the messages written under folder, newest first."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.log"), key=lambda f: f.stat().st_mtime, reverse=True)
    messages: list[OutboxMessage] = []
    for path in files:
        chunks = path.read_text(encoding="utf-8", errors="replace").split(_SEPARATOR)
        messages.extend(_parse(chunk) for chunk in reversed(chunks) if chunk.strip())
        if len(messages) >= MAX_MESSAGES:
            break
    return messages[:MAX_MESSAGES]


def _parse(raw: str) -> OutboxMessage:
    message = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return OutboxMessage(
        subject=str(message.get("Subject", "")),
        to=str(message.get("To", "")),
        date=str(message.get("Date", "")),
        text=text,
        links=list(dict.fromkeys(_LINK.findall(text))),
    )
