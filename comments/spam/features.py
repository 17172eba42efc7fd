"""What the spam classifier sees of a comment: hashed text, link and author features.

Every feature is hashed (no vocabulary to store), so a model is a sparse vector of
coefficients over N_FEATURES columns.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse
from sklearn.utils import murmurhash3_32

from comments.spam.unobfuscate import unobfuscate

# Bump when the features change: a stored model is only valid for the features it saw.
FEATURE_SPEC = "reex-spam-features/7"
N_FEATURES = 2**20

# Each block of features is hashed with its own seed, so a word never collides by design
# with the same string as a character n-gram or an author name.
_BLOCK_SEEDS = {"w": 11, "c": 12, "a": 13, "d": 14, "n": 15, "k": 16}
# The author's name counts half as much as the body: a name is short and rarely decisive.
_AUTHOR_WEIGHT = 0.5
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*"
    r"\.(?:com|net|org|info|biz|co|ru|de|uk|us|io|tk|ly|me|tv|gl|be|cc|ws|xyz)\b(?:/[^\s]*)?"
    # Any other top-level domain only with a path after it: "trojmiasto.pl/page" is a link,
    # "it.so" at the end of a sentence is not.
    r"|\b[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,6}/[^\s]+"
    # "marketglory . com/..." spaced out to dodge link filters (only the three common TLDs:
    # "us. Me" or "it. Co" would otherwise read as links in ordinary prose).
    r"|\b[a-z0-9][a-z0-9-]+(?:\s+\.\s*|\.\s+)(?:com|net|org)\b(?:/[^\s]*)?",
    re.IGNORECASE,
)
# Comments may arrive as HTML (imports, YouTube exports): keep link targets, drop markup.
# A link whose text is a time ("2:19") is the site's own link to a moment of the video, not
# promotion: keep the time only.
_TIME_LINK_RE = re.compile(r"<a\s[^>]*>\s*(\d{1,2}(?::\d\d){1,2})\s*</a>", re.IGNORECASE)
_HREF_RE = re.compile(r"<a\s[^>]*?href\s*=\s*[\"']?([^\"'\s>]+)[^>]*>", re.IGNORECASE)
_BREAK_RE = re.compile(r"<br\s*/?>|</?p\s*/?>", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-z][^>]*>", re.IGNORECASE)
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_RUN_RE = re.compile(r"(.)\1{2,}", re.DOTALL)
# Promotion and engagement-bait cues a moderator recognises whatever the words around them:
# each is one shared feature, so what is learned on one video's "check out my channel" or
# "like this comment" carries over to another video's variant of it. "cta" (any call to
# action aimed at the readers: subscribe, visit, check out, vote, like this comment...) is
# shared by all of them, so a file whose spam is mostly bait still learns from promotion.
# A poll ("thumbs up if you're watching in 2015") or "share it" is bait but not in "cta":
# the videos' labels split on them (Psy's readers post polls, LMFAO's are marked spam), and
# inside the heavily weighted cta they alone took a short reader's comment to spam.
_CUES = {
    "promo_own": re.compile(
        r"\b(?:my|our)\s+(?:new\s+|first\s+|latest\s+|own\s+)?(?:channel|vids?|videos?|page"
        r"|music|songs?|blog|site|website|playlist|covers?|tracks?|band|account|raps?|beats?"
        r"|remix|app|stuff|profile|vlogs?|mixtape|album|instagram|twitter|facebook)\b"
    ),
    "promo_self": re.compile(
        r"\b(?:i|we)\s*(?:'m|am|are|'re|'ve|have)?\s*(?:just\s+|recently\s+|also\s+)?"
        r"(?:made|make|started|start|have|got|run|created|uploaded|posted|did|do|recorded|wrote"
        r"|released)\s+(?:a|an|my|our|some|the|this)\s+(?:[\w-]+\s+){0,2}(?:channel|videos?"
        r"|vids?|songs?|covers?|tracks?|raps?|beats?|remix|blog|app|games?|page|music|mixtape"
        r"|album|vlogs?)\b"
        r"|\b(?:new|small|upcoming|aspiring|young)\s+(?:youtuber|rapper|artist|singer|channel"
        r"|musician|producer)\b|\bnew\s+(?:to|on)\s+youtube\b"
        r"|\b(?:search|google|look\s+up)\s+(?:for\s+|up\s+)?[\"'“]"
    ),
    "cta": re.compile(
        r"\b(?:subscribe|sub|follow|visit|watch|check(?: out)?|look at|vote|donate|search(?: for)?"
        r"|look up|go to|click|add|join|listen to)\s+"
        r"(?:me\b|my\b|our\b|us\b|it\s+out|out\b|to\s+(?:me|my|our)\b)"
        r"|\b(?:like|thumbs? up)\s+(?:this\s+comment|for\s+no\s+reason)"
        r"|\bgive\s+(?:it|this|me|us)\s+a\s+(?:like|thumbs|sub)"
        r"|\b(?:sub|like|follow)\s*(?:4|for)\s*(?:sub|like|follow)\b"
        r"|\bif\s+i\s+(?:get|reach|hit)\s+\d+|\bhelp\s+me\s+(?:get|reach)\b"
    ),
    "promo_look": re.compile(r"\b(?:check|take a look|look)\s+(?:out\s+|at\s+)?(?:my|this|our)\b"),
    "promo_follow": re.compile(
        r"\b(?:sub(?:scribe)?s?|follow)\s+(?:to\s+)?(?:me|my|us|back|4|for)\b|\bsub4sub\b|\bf4f\b"
    ),
    "bait_like": re.compile(
        r"\b(?:like|thumbs up|give it a like)\s+(?:this\s+comment|if)\b|\blike this comment\b"
        # Asking readers to spread the video ("share it and replay it!") is fans' talk as
        # often as a chain letter's: bait, not a call to the commenter's own things.
        r"|\bshare\s+(?:this|it)\b"
    ),
    "bait_please": re.compile(
        r"\b(?:please|plz|pls)\s+(?:watch|visit|like|share|subscribe|sub|check|help|support)\b"
    ),
    # Not "make" alone: "make me smile", "make up", "let's make it reach a billion".
    "money": re.compile(r"\b(?:earn|free|win|gift\s*cards?|money|cash)\b|\$\d"),
}
# A cue is one of a dozen features where the n-grams are thousands, all equally
# regularised: counting a cue double lets the model lean on what carries over to a video it
# never saw rather than on one video's wording (leave-one-file-out, thresholds chosen
# without the held-out file: spam caught 86.3% -> 88.4%, approved 1.9% -> 1.7%).
_CUE_WEIGHT = 2.0
# Characters that only hide or pad text: byte-order marks, zero-width and bidi controls.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u200e\u200f"), None)


@dataclass(frozen=True)
class SpamSample:
    body: str
    author_name: str = ""
    author_email: str = ""
    author_url: str = ""
    label: bool | None = None  # True = spam, False = ham, None = unknown
    # How much the label counts in training: 1 for a file row or a moderator's decision,
    # less for a weak signal such as readers' spam reports.
    weight: float = 1.0


def _normalise(text: str) -> str:
    text = _TIME_LINK_RE.sub(r" \1 ", text)
    text = _HREF_RE.sub(r" \1 ", text)
    text = _TAG_RE.sub(" ", _BREAK_RE.sub("\n", text))
    return unicodedata.normalize("NFKC", html.unescape(text)).translate(_INVISIBLE)


def _domain(url: str) -> str:
    url = url.strip().lower()
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.").rstrip(".")


def _weighted(tokens: Iterable[str]) -> list[tuple[str, float]]:
    """Return each distinct token once, counts dampened and the block scaled to unit length."""
    counts = Counter(tokens)
    weights = [1.0 + math.log(count) if count > 1 else 1.0 for count in counts.values()]
    norm = math.sqrt(sum(w * w for w in weights)) or 1.0
    return [(token, w / norm) for token, w in zip(counts, weights, strict=True)]


def _char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Return the character n-grams of each word padded with spaces (sklearn's char_wb)."""
    grams = []
    for word in text.split():
        padded = f" {word} "
        for n in range(low, min(high, len(padded)) + 1):
            grams += [padded[start : start + n] for start in range(len(padded) - n + 1)]
    return grams


def _word_ngrams(words: Sequence[str]) -> Iterator[str]:
    yield from words
    for first, second in pairwise(words):
        yield f"{first} {second}"


def _domain_tokens(links: Sequence[str], sample: SpamSample) -> Iterator[str]:
    for link in links:
        domain = _domain("".join(link.split()))
        yield f"link={domain}"
        yield f"tld={domain.rsplit('.', 1)[-1]}"
    if sample.author_url.strip():
        yield f"site={_domain(sample.author_url)}"
    if "@" in sample.author_email:
        yield f"email={sample.author_email.rsplit('@', 1)[1].strip().lower()}"


def _signals(
    body: str, words: Sequence[str], links: Sequence[str], sample: SpamSample
) -> list[tuple[str, float]]:
    """Return the numeric signals a moderator looks at, each scaled to roughly [0, 1]."""
    n_letters = sum(map(str.isalpha, body))
    runs = sum(len(m.group(0)) for m in _RUN_RE.finditer(body))
    return [
        ("links", min(len(links), 5) / 5),
        ("no_links", float(not links)),
        ("site", float(bool(sample.author_url.strip()))),
        ("email", float("@" in sample.author_email)),
        ("length", min(math.log1p(len(body)) / 8, 1.0)),
        ("words", min(math.log1p(len(words)) / 6, 1.0)),
        ("caps", sum(map(str.isupper, body)) / n_letters if n_letters else 0.0),
        ("digits", sum(map(str.isdigit, body)) / len(body) if body else 0.0),
        ("bangs", min(body.count("!"), 10) / 10),
        ("repeat_chars", runs / len(body) if body else 0.0),
        ("repeat_words", 1 - len(set(words)) / len(words) if words else 0.0),
        ("bias", 1.0),
    ]


def _feature_blocks(sample: SpamSample) -> list[tuple[str, list[tuple[str, float]]]]:
    body = _normalise(sample.body)
    lower = unobfuscate(body.lower())
    name = unobfuscate(_normalise(sample.author_name).lower())
    words = _WORD_RE.findall(lower)
    links = _URL_RE.findall(body)
    return [
        ("w", _weighted(_word_ngrams(words))),
        ("c", _weighted(_char_ngrams(lower, 3, 5))),
        ("a", [(t, v * _AUTHOR_WEIGHT) for t, v in _weighted(_char_ngrams(name, 2, 4))]),
        ("d", [(token, 1.0) for token in _domain_tokens(links, sample)]),
        ("n", _signals(body, words, links, sample)),
        ("k", [(cue, _CUE_WEIGHT) for cue, pattern in _CUES.items() if pattern.search(lower)]),
    ]


def sample_features(sample: SpamSample) -> list[tuple[str, float]]:
    """Return the named features of one sample ("block:token", value), for inspection."""
    return [
        (f"{block}:{token}", value)
        for block, pairs in _feature_blocks(sample)
        for token, value in pairs
    ]


def hashed(sample: SpamSample) -> tuple[list[int], list[float]]:
    """Return the hashed (indices, values) of one sample: what training and scoring use."""
    indices: list[int] = []
    values: list[float] = []
    for block, pairs in _feature_blocks(sample):
        seed = _BLOCK_SEEDS[block]
        indices += [murmurhash3_32(token, seed, True) % N_FEATURES for token, _ in pairs]
        values += [value for _, value in pairs]
    return indices, values


def matrix(samples: Sequence[SpamSample]) -> sparse.csr_matrix:
    indptr, indices, values = [0], [], []
    for sample in samples:
        row_indices, row_values = hashed(sample)
        indices += row_indices
        values += row_values
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.array(values), np.array(indices, dtype=np.int64), np.array(indptr)),
        shape=(len(samples), N_FEATURES),
    )
    matrix.sum_duplicates()
    return matrix
