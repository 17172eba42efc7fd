"""XSS payloads as approved comments, on the reader's page and in the admin, in Chromium.

Every payload of ``../shared/data/xss/`` (bleach's vectors, DOMPurify's fixtures) and a
few more is stored as an approved comment through the real service (sanitised once, as
moderation does): as the body, as the name, and as the website where the model takes it.
The pages are then opened with ``alert``, ``confirm``, ``prompt``, ``print`` and
``console`` replaced by recorders, and dialogs, navigations, pop-ups and requests to
other hosts watched: nothing may run, nothing may navigate, nothing may load from
elsewhere, and no element or attribute outside the sanitiser's allowlist may appear.
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Frame, Page, Request, Response

from comments.admin import CommentAdmin
from devstack.dev import DevStack
from tests.security.conftest import XSS, data_file

EXTRA_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><script>alert(document.domain)</script>',
    "<img src=x onerror=alert(1)>",
    "<svg onload=confirm(1)>",
    "<svg><script>prompt(1)</script></svg>",
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="https://example.org/" onclick="alert(1)">onclick</a>',
    '<a href="https://example.org/" style="position:fixed;inset:0">cover</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>parent.alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<input autofocus onfocus="alert(1)">',
    '<details open ontoggle="alert(1)">',
    '<video><source onerror="alert(1)"></video>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<img src="https://evil.example/pixel.png">',
    "<!--<img src=x onerror=alert(1)>-->",
    "{{ 7*7 }} {% debug %} ${alert(1)}",
    'https://evil.example/"onmouseover="alert(1)',
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
]
# Elements and attributes the reader page's comment section may hold.
READER_TAGS = {
    "section", "h2", "div", "p", "br", "a", "b", "strong", "i", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "time",
}  # fmt: skip
READER_ATTRIBUTES = {"id", "class", "href", "rel", "title", "datetime"}
SAFE_SCHEMES = {"http", "https", "mailto", ""}
# Chromium asks for it on its own; the project has none.
IGNORED_MISSING = {"/favicon.ico"}
ADMIN_PAGE_SIZE = CommentAdmin.list_per_page
ACTIVE_TAGS = "script, iframe, frame, object, embed, base, meta, link, style, form, svg, math"

WATCH_SCRIPT = """
(() => {
  const calls = [];
  Object.defineProperty(window, "__xss_calls", { value: calls });
  const recorder = (name) => function (...args) {
    calls.push(name + "(" + args.map((a) => String(a)).join(", ") + ")");
  };
  for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
    window[name] = recorder(name);
  }
  for (const name of ["log", "info", "warn", "error", "debug", "trace", "dir", "table"]) {
    console[name] = recorder("console." + name);
  }
})();
"""

DOM_CHECK = """
([containerSelector, allowedTags, allowedAttributes, activeTags]) => {
  const problems = [];
  const safe = new Set(["http:", "https:", "mailto:"]);
  for (const container of document.querySelectorAll(containerSelector)) {
    for (const el of [container, ...container.querySelectorAll("*")]) {
      const tag = el.tagName.toLowerCase();
      if (allowedTags && !allowedTags.includes(tag)) problems.push("<" + tag + ">");
      if (el.matches(activeTags)) problems.push("active <" + tag + ">");
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on")) problems.push(tag + " " + name);
        if (allowedAttributes && !allowedAttributes.includes(name)) {
          problems.push(tag + " @" + name);
        }
      }
      for (const name of ["href", "src", "action", "formaction", "xlink:href"]) {
        const value = el.getAttribute(name);
        if (value === null) continue;
        const url = new URL(value, document.baseURI);
        if (!safe.has(url.protocol)) problems.push(tag + " " + name + "=" + value);
      }
    }
  }
  return problems;
}
"""

SEED_SCRIPT = r"""
import json, sys, unicodedata
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.utils import timezone
from comments.services import article_upsert, comment_import

payloads = json.load(open({path!r}, encoding="utf-8"))
article, _ = article_upsert(key="xss", title="Hostile comments", url="",
                            published_at=timezone.now(), comments_open=True)
user = User.objects.create_user("xss-moderator", "xss@example.org", {password!r}, is_staff=True)
user.groups.add(Group.objects.get(name="Moderators"))

def text(value):
    # The model refuses control characters in a body (a field error, tested elsewhere);
    # removing them keeps the rest of the payload, e.g. "<scr\x00ipt>" becomes "<script>".
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))

def one_line(text, size):
    text = "".join(c for c in " ".join(text.split()) if c.isprintable())
    return text[:size].strip() or "x"

stored, hostile, refused = [], {{"body": 0, "author_name": 0, "author_url": 0}}, 0
why = {{"body": [], "author_name": [], "author_url": []}}
for index, payload in enumerate(payloads):
    fields = {{
        "body": text(payload),
        "author_name": one_line(payload, 100),
        "author_url": payload if payload.startswith(("http:", "https:")) else
                      "https://example.org/?q=" + "".join(one_line(payload, 150).split()),
    }}
    safe = {{"body": "Payload %d refused as a body." % index, "author_name": "Reader %d" % index,
             "author_url": ""}}
    for attempt in range(2):
        try:
            comment = comment_import(article=article, author_email="r%d@example.org" % index,
                                     **fields)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if attempt == 0:
                    why[name] += messages
                fields[name] = safe[name]
            continue
        stored.append(comment.pk)
        for name in hostile:
            hostile[name] += fields[name] != safe[name]
        break
    else:
        refused += 1
sys.stdout.write(json.dumps({{"article": article.pk, "ids": stored, "hostile": hostile,
                              "refused": refused, "why": why}}))
"""


def xss_payloads() -> list[str]:
    """Return every payload of the shared data, then this suite's own."""
    payloads = [
        path.read_text(encoding="utf-8").split("\n--\n")[0]
        for path in sorted(data_file("xss", "bleach", "1.test").parent.glob("*.test"))
    ]
    dompurify = json.loads(data_file("xss", "dompurify", "expect.json").read_text("utf-8"))
    payloads += [case["payload"] for case in dompurify]
    assert len(payloads) == 20 + 223, f"unexpected payload count in {XSS}"
    return [*payloads, *EXTRA_PAYLOADS]


def _without_control_characters(value: str) -> str:
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))


@dataclass
class Seeded:
    article_id: int
    ids: list[int]
    hostile: dict[str, int]
    refused: int
    why: dict[str, list[str]]
    username: str
    password: str


@pytest.fixture(scope="package")
def seeded(dev_stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """Store every payload as approved comments in one ``manage shell`` run."""
    path = tmp_path_factory.mktemp("xss") / "payloads.json"
    path.write_text(json.dumps(xss_payloads()), encoding="utf-8")
    password = secrets.token_urlsafe(16)
    script = SEED_SCRIPT.format(path=str(path), password=password)
    result = dev_stack.manage("shell", "-c", script, timeout=300)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return Seeded(
        article_id=data["article"],
        ids=data["ids"],
        hostile=data["hostile"],
        refused=data["refused"],
        why=data["why"],
        username="xss-moderator",
        password=password,
    )


@dataclass
class Watch:
    """What a page did that it should not: calls, dialogs, navigations, foreign requests."""

    base_url: str
    allowed_urls: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.add_init_script(WATCH_SCRIPT)
        page.on("dialog", self._dialog)
        page.on("framenavigated", self._navigated)
        page.on("popup", lambda popup: self.problems.append(f"popup {popup.url}"))
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def goto(self, page: Page, url: str, *, settle_ms: int = 300) -> None:
        self.allowed_urls.add(url)
        page.goto(url, wait_until="load")
        page.wait_for_timeout(settle_ms)  # let timers and late handlers fire
        for frame in page.frames:
            self.problems += [f"{frame.url}: {call}" for call in self._calls(frame)]

    def _calls(self, frame: Frame) -> list[str]:
        try:
            return list(frame.evaluate("() => window.__xss_calls || []"))
        except Exception as error:  # a frame that vanished is reported, not ignored
            return [f"frame not readable: {error}"]

    def _console(self, message: ConsoleMessage) -> None:
        # The browser's own note on a failed load; _response reports it with its URL.
        if not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Response) -> None:
        if response.status >= 400 and urlsplit(response.url).path not in IGNORED_MISSING:
            self.problems.append(f"{response.status} for {response.url}")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _navigated(self, frame: Frame) -> None:
        if frame.parent_frame is not None:
            self.problems.append(f"a frame navigated to {frame.url}")
        elif frame.url not in self.allowed_urls:
            self.problems.append(f"navigated to {frame.url}")

    def _request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != self.base_url:
            self.problems.append(f"request to {request.url}")


@pytest.fixture
def watch(dev_stack: DevStack, page: Page) -> Iterator[Watch]:
    watched = Watch(base_url=dev_stack.base_url)
    watched.attach(page)
    yield watched


def _dom_problems(
    page: Page, container: str, tags: set[str] | None, attributes: set[str] | None
) -> list[Any]:
    arguments = [
        container,
        sorted(tags) if tags else None,
        sorted(attributes) if attributes else None,
        ACTIVE_TAGS,
    ]
    return list(page.evaluate(DOM_CHECK, arguments))


def test_every_payload_was_stored_in_each_field_it_fits(seeded: Seeded) -> None:
    count = len(xss_payloads())
    assert seeded.refused == 0
    assert len(seeded.ids) == count
    storable = [p for p in xss_payloads() if len(_without_control_characters(p).strip()) >= 2]
    assert seeded.why["body"] == ["This field is required."] * (count - len(storable))
    assert seeded.hostile["body"] == len(storable)
    assert seeded.hostile["author_name"] == count
    assert seeded.hostile["author_url"] == count


def test_nothing_runs_or_navigates_on_the_readers_page(
    dev_stack: DevStack, page: Page, watch: Watch, seeded: Seeded
) -> None:
    watch.goto(page, f"{dev_stack.base_url}/articles/xss/")

    assert page.locator("#comments .comment").count() == len(seeded.ids)
    assert watch.problems == []
    assert _dom_problems(page, "#comments", READER_TAGS, READER_ATTRIBUTES) == []


def _log_in(dev_stack: DevStack, page: Page, watch: Watch, seeded: Seeded) -> None:
    watch.goto(page, f"{dev_stack.base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", seeded.username)
    page.fill("#id_password", seeded.password)
    watch.allowed_urls.add(f"{dev_stack.base_url}/admin/")
    page.click("input[type=submit]")
    page.wait_for_url(f"{dev_stack.base_url}/admin/")


def test_nothing_runs_or_navigates_in_the_admin_list(
    dev_stack: DevStack, page: Page, watch: Watch, seeded: Seeded
) -> None:
    _log_in(dev_stack, page, watch, seeded)
    listed = 0
    changelist = f"{dev_stack.base_url}/admin/comments/comment/"
    for number in range(1, -(-len(seeded.ids) // ADMIN_PAGE_SIZE) + 1):
        watch.goto(page, f"{changelist}?article__id__exact={seeded.article_id}&p={number}")
        listed += page.locator("#result_list tbody tr").count()
        assert _dom_problems(page, "#result_list", None, None) == []

    assert listed == len(seeded.ids)
    assert watch.problems == []


def test_nothing_runs_or_navigates_on_the_admin_change_pages(
    dev_stack: DevStack, page: Page, watch: Watch, seeded: Seeded
) -> None:
    _log_in(dev_stack, page, watch, seeded)
    problems = []
    for comment_id in seeded.ids:
        change = f"{dev_stack.base_url}/admin/comments/comment/{comment_id}/change/"
        watch.goto(page, change, settle_ms=0)  # the reader page test waits for timers
        problems += _dom_problems(page, ".comment-rendering, div.readonly", None, None)

    assert watch.problems == []
    assert problems == []


def test_the_watch_sees_what_a_payload_would_do(
    dev_stack: DevStack, page: Page, watch: Watch
) -> None:
    watch.goto(page, f"{dev_stack.base_url}/articles/welcome/", settle_ms=0)
    page.evaluate("() => { alert(1); console.log('x'); }")
    probe = '<img src="x" onerror="prompt(2)"><a href="javascript:x">a</a>'
    page.evaluate(
        "(html) => document.querySelector('#comments').insertAdjacentHTML('beforeend', html)",
        probe,
    )
    page.wait_for_timeout(200)

    calls = [call for frame in page.frames for call in watch._calls(frame)]
    assert calls[:2] == ["alert(1)", "console.log(x)"]
    # The inline handler either ran (recorded) or the page's CSP refused it (reported).
    refused = [problem for problem in watch.problems if "Content Security Policy" in problem]
    assert calls[2:] == ["prompt(2)"] or refused
    problems = _dom_problems(page, "#comments", READER_TAGS, READER_ATTRIBUTES)
    assert "<img>" in problems
    assert "img onerror" in problems
    assert "a href=javascript:x" in problems
