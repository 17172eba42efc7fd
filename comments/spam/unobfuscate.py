"""Undo the disguises spammers put on words, so a disguised word meets the same features.

The classifier's words, character n-grams and cues read the text after these steps
(lowercased first); the numeric signals (capitals, repetition) still read the text as
written, since shouting and padding are signals in themselves.

- homoglyphs: in a word that mixes them with Latin letters, Cyrillic and Greek letters
  drawn like Latin ones ("subscribe" typed with a Cyrillic s, c, i and e) become the Latin
  letters (a word wholly in Cyrillic or Greek is left alone; NFKC has already folded
  full-width and mathematical letters);
- spaced or dotted letters ("s u b s c r i b e", "c.h.e.c.k") are joined into one word.

Runs of one character ("pleaseeeee") are left as written: cutting them cost a reader marked
spam in leave-one-file-out, and the repetition signal already measures them.
"""

from __future__ import annotations

import re

# Lowercase Cyrillic and Greek letters drawn like Latin ones (after str.lower()), written
# as escapes so that the source shows which is which.
_CYRILLIC = (
    "\u0430\u0432\u0441\u0435\u0451\u04bb\u0456\u0457\u0458\u043a\u043c"
    "\u043d\u043e\u0440\u051b\u0455\u0442\u0443\u0445\u051d\u044c",
    "abceehiijkmhopqstyxwb",
)
_GREEK = (
    "\u03b1\u03b2\u03b5\u03b7\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u03c9",
    "abenikvoptuxw",
)
_HOMOGLYPHS = str.maketrans(_CYRILLIC[0] + _GREEK[0], _CYRILLIC[1] + _GREEK[1])
# Three or more single letters, each followed by one separator (space, dot, dash, star,
# underscore) and the same separator every time: "s u b", "c.h.e.c.k", "f-r-e-e".
_SPACED_RE = re.compile(r"(?<![^\W\d_])[^\W\d_]([ .\-*_])(?:[^\W\d_]\1)+[^\W\d_](?![^\W\d_])")
_HOMOGLYPH_RE = re.compile(f"[{_CYRILLIC[0]}{_GREEK[0]}]")
_WORD_RE = re.compile(r"[^\W\d_]+")
_LATIN_RE = re.compile(r"[a-z]")


def _join(match: re.Match[str]) -> str:
    return match.group(0).replace(match.group(1), "")


def _latin(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.translate(_HOMOGLYPHS) if _LATIN_RE.search(word) else word


def unobfuscate(lower: str) -> str:
    """Return lowercased text with homoglyphs and spaced letters undone."""
    # Most comments have no look-alike letter at all: skip the per-word pass for them.
    text = _WORD_RE.sub(_latin, lower) if _HOMOGLYPH_RE.search(lower) else lower
    return _SPACED_RE.sub(_join, text)
