"""The site's feed into articles on the production shape: PostgreSQL, Redis, gunicorn."""

import random
from http import HTTPStatus
from pathlib import Path

from devstack.services import fetch_json
from tests.comments.feed_server import Route, feed_server

RSS = (Path(__file__).parents[1] / "comments" / "data" / "wordpress-rss2.xml").read_bytes()


def test_feeds_poll_creates_articles_the_api_serves_and_a_re_poll_sends_the_etag(stack):
    # Post IDs of their own: the stack's database lives for the whole session.
    first, second = random.sample(range(10**6, 10**7), 2)
    body = RSS.replace(b"?p=4812", f"?p={first}".encode()).replace(
        b"?p=4790", f"?p={second}".encode()
    )
    with feed_server() as server:
        server.routes["/feed/"] = Route(body=body, etag=f'"{first}"')
        url = server.url("/feed/")
        created = stack.manage("feeds_poll", "--url", url)
        again = stack.manage("feeds_poll", "--url", url)

    assert f"  created {first}\n" in created.stdout
    assert f"  created {second}\n" in created.stdout
    assert "not modified since the last poll" in again.stdout
    assert server.requests[1]["if-none-match"] == f'"{first}"'
    status, article = fetch_json(f"{stack.base_url}/api/v1/articles/{first}/")
    assert status == HTTPStatus.OK
    assert article["title"] == "China\u2019s Rare Earth Exports Fall 12% & Prices Climb"
    assert article["published_at"] == "2024-05-14T07:30:00Z"
    assert article["author"] == "Jane Doe"
    assert article["summary"].endswith("held back orders.")
