"""Article keys for threads known only by their link (Disqus, Isso)."""

import hashlib
import re
from urllib.parse import parse_qs, unquote, urlsplit

from django.utils.text import slugify

# The Disqus WordPress plugin's identifier: "<post ID> <the post's ?p= link>".
_WP_IDENTIFIER = re.compile(r"^(\d+)\s+https?://")
_KEY_LENGTH = 200


def article_key(*, link: str, identifier: str) -> str:
    """Return the key of a thread's article: the WordPress post ID when Disqus knows it
    (its plugin's identifier, or a ``?p=`` link), else a slug of the link's path."""
    if match := _WP_IDENTIFIER.match(identifier):
        return match[1]
    parts = urlsplit(link)
    post_id = parse_qs(parts.query).get("p", [""])[0]
    if post_id.isascii() and post_id.isdigit():
        return post_id
    path = unquote(f"{parts.path} {parts.query}").replace("/", " ").replace(".", " ")
    key = slugify(path) or slugify(parts.netloc.replace(".", " "))
    if len(key) > _KEY_LENGTH:
        digest = hashlib.sha256(link.encode()).hexdigest()[:12]
        key = f"{key[: _KEY_LENGTH - 13]}-{digest}"
    return key
