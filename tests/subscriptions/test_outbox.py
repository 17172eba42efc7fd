import os
import time
from http import HTTPStatus

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.filebased import EmailBackend

URL = "/dev/outbox/"


@pytest.fixture
def outbox_dir(settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_URL = ""
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return tmp_path


def _write(folder, subject, body):
    backend = EmailBackend(file_path=str(folder))
    message = EmailMultiAlternatives(subject, body, "from@example.org", ["ann@example.org"])
    message.attach_alternative(f"<p>{body}</p>", "text/html")
    backend.send_messages([message])


def test_it_lists_the_mail_with_clickable_links_newest_first(client, outbox_dir):
    _write(outbox_dir, "First", "Confirm: http://127.0.0.1:8000/subscriptions/confirm/abc/")
    first = next(outbox_dir.iterdir())
    os.utime(first, (time.time() - 60, time.time() - 60))
    _write(outbox_dir, "Second", "Nothing to click")
    content = client.get(URL).content.decode()
    assert content.index("Second") < content.index("First")
    assert 'href="http://127.0.0.1:8000/subscriptions/confirm/abc/"' in content
    assert "ann@example.org" in content


def test_several_messages_in_one_file_are_all_listed(client, outbox_dir):
    backend = EmailBackend(file_path=str(outbox_dir))
    backend.send_messages(
        [
            EmailMultiAlternatives("One", "a", "f@example.org", ["x@example.org"]),
            EmailMultiAlternatives("Two", "b", "f@example.org", ["y@example.org"]),
        ]
    )
    content = client.get(URL).content.decode()
    assert "One" in content and "Two" in content


def test_it_is_empty_without_mail(client, outbox_dir):
    assert client.get(URL).status_code == HTTPStatus.OK


def test_it_does_not_exist_without_debug(client, outbox_dir, settings):
    settings.DEBUG = False
    assert client.get(URL).status_code == HTTPStatus.NOT_FOUND


def test_it_does_not_exist_when_mail_goes_to_smtp(client, outbox_dir, settings):
    settings.EMAIL_URL = "smtp://127.0.0.1:25"
    assert client.get(URL).status_code == HTTPStatus.NOT_FOUND


def test_the_mails_are_not_mistaken_for_site_messages(client, outbox_dir):
    _write(outbox_dir, "Hello", "Confirm: http://127.0.0.1:8000/subscriptions/confirm/abc/")

    content = client.get(URL).content.decode()

    assert 'class="messages"' not in content
    assert "OutboxMessage(" not in content
