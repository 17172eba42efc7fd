"""Whether a page URL a browser sent lies under one of the site's own URL prefixes.

Compared part by part (scheme, host, port, path segments), never as strings: a substring
or ``startswith`` test would let ``https://news.example.org.evil.test/`` or
``https://news.example.org/newsletter`` pass for ``https://news.example.org/news``.
"""

from urllib.parse import unquote, urlsplit

from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 500


def _parts(url: str) -> tuple[str, str, int, list[str]] | None:
    """Return (scheme, host, port, path segments) of an absolute http(s) URL, or None."""
    try:
        split = urlsplit(url.strip())
        port = split.port
    except ValueError:
        return None
    scheme = split.scheme.lower()
    if scheme not in DEFAULT_PORTS or not split.hostname or split.username or split.password:
        return None
    segments = [unquote(part) for part in split.path.split("/")]
    # A dot segment, even percent-encoded, could climb out of the prefix once resolved.
    if any(part in (".", "..") or "/" in part or "\\" in part for part in segments):
        return None
    return scheme, split.hostname.lower(), port or DEFAULT_PORTS[scheme], segments


def _under(path: list[str], prefix: list[str]) -> bool:
    """Whether ``path`` starts with the segments of ``prefix`` (a trailing slash ignored)."""
    wanted = prefix[:-1] if prefix and prefix[-1] == "" else prefix
    return path[: len(wanted)] == wanted


def site_url_canonical(url: str) -> str | None:
    """Return the page URL without query and fragment if it lies under a ``REEX_SITE_URLS``
    prefix; None otherwise (another host, scheme or port, a path outside, a dot segment)."""
    if not url or len(url) > MAX_URL_LENGTH:
        return None
    page = _parts(url)
    if page is None:
        return None
    for prefix_url in settings.REEX_SITE_URLS:
        prefix = _parts(prefix_url)
        if prefix is not None and page[:3] == prefix[:3] and _under(page[3], prefix[3]):
            return urlsplit(url.strip())._replace(query="", fragment="").geturl()
    return None


def title_from_url(url: str, *, fallback: str) -> str:
    """Return a readable title guessed from the URL's last path segment (``my-post`` ->
    ``My post``), or ``fallback`` when the path has none."""
    segments = [part for part in unquote(urlsplit(url).path).split("/") if part]
    last = segments[-1] if segments else ""
    if "." in last:
        last = last.rsplit(".", 1)[0]  # my-post.html
    words = " ".join(last.replace("-", " ").replace("_", " ").split())
    return (words[:1].upper() + words[1:])[:300] if words else fallback
