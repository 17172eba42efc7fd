"""PostgreSQL unreachable: 503 with a JSON body on the API, a plain page elsewhere,
/healthz naming the database, no traceback; the site recovers when it is back."""

import json
from http import HTTPStatus
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.faults.support import TcpProxy, call, extra_web, new_article

# Bounded: a fault that is not recovered from fails the test instead of hanging it.
pytestmark = pytest.mark.timeout(150)

LEAKS = ("Traceback", "OperationalError", "psycopg", "connection refused", 'File "')


def _through(proxy: TcpProxy, database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))


def _assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak.lower() not in text.lower(), text


def test_with_the_database_unreachable_the_api_pages_and_healthz_answer_503(stack):
    article = new_article(stack)
    proxy = TcpProxy(target_port=urlsplit(stack.database_url).port or 5432)
    try:
        with extra_web(
            stack, name="web-db-proxy", DATABASE_URL=_through(proxy, stack.database_url)
        ) as base_url:
            page = f"{base_url}/articles/{article['key']}/"
            api = f"{base_url}/api/v1/articles/{article['key']}/comments/"
            assert call(page)[0] == HTTPStatus.OK  # a kept connection exists, then dies
            proxy.stop()

            for url, payload in [
                (f"{base_url}/api/v1/lists/", None),
                (api, {"author_name": "Di", "author_email": "di@example.org", "body": "hi"}),
                (f"{base_url}/api/v1/subscriptions/", {"email": "d@example.org", "consent": True}),
            ]:
                status, content_type, body = call(url, payload=payload)
                assert (status, content_type) == (503, "application/json"), (url, body)
                assert "temporarily unavailable" in json.loads(body)["detail"]
                _assert_no_leak(body)

            # The reader page read before the outage comes from the cache, as the API list
            # does: readers keep reading; what needs the database answers 503.
            status, _, body = call(page)
            assert status == HTTPStatus.OK and article["title"] in body
            for url, headers in [
                (f"{base_url}/subscribe/", {}),
                (f"{base_url}/admin/", {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}),
            ]:
                status, content_type, body = call(url, headers=headers)
                assert (status, content_type) == (503, "text/html; charset=utf-8"), (url, body)
                assert "<h1>Temporarily unavailable</h1>" in body
                _assert_no_leak(body)

            # The web log says what happened in one line per request, without a traceback.
            log = (stack.log_dir / "web-db-proxy.log").read_text()
            assert "database unavailable for POST /api/v1/subscriptions/" in log
            assert "Traceback" not in log

            status, _, body = call(f"{base_url}/healthz")
            assert status == HTTPStatus.SERVICE_UNAVAILABLE
            assert json.loads(body) == {"database": "down", "broker": "ok"}

            proxy.start()
            stack.wait_until(lambda: call(f"{base_url}/healthz")[0] == HTTPStatus.OK)
            assert call(page)[0] == HTTPStatus.OK
            assert call(api)[0] == HTTPStatus.OK
    finally:
        proxy.stop()
