"""Reading an export file as a stream of XML elements, safely and with bounded memory.

defusedxml refuses entity declarations (the "billion laughs" bomb) and external entities;
each top-level record is handed over whole and then dropped from the tree.
"""

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from comments.importing.records import ImportFileError


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn what the parser raises into an ImportFileError that says what is wrong."""
    try:
        yield
    except ParseError as error:
        raise ImportFileError(
            f"{path}: not well-formed XML (truncated or damaged): {error}"
        ) from error
    except DefusedXmlException as error:
        raise ImportFileError(
            f"{path}: refused: the file declares XML entities ({error!r}), which an export "
            "never needs and which can expand without bound"
        ) from error
    except (OSError, EOFError) as error:  # EOFError: a cut-off .gz file
        raise ImportFileError(f"Cannot read {path}: {error}") from error


def _opened(path: Path) -> "gzip.GzipFile | BinaryIO":
    """Open the file, gunzipping it on the fly when it ends in .gz (as Disqus sends it)."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def records_at_depth(
    path: Path, *, depth: int, namespaces: dict[str, str] | None = None
) -> Iterator[Element]:
    """Yield each complete element ``depth`` levels below the document (the root is 1).

    ``namespaces`` (if given) collects every namespace URI the file declares, by prefix,
    as it is declared. Raises ImportFileError for a file that is not well-formed XML.
    """
    level, parents = 0, [Element("document")]
    with _reading(path), _opened(path) as source:
        for event, item in iterparse(source, events=("start", "end", "start-ns")):
            if event == "start-ns":
                if namespaces is not None:
                    namespaces[item[0]] = item[1]
            elif event == "start":
                level += 1
                if level < depth:
                    parents.append(item)
            else:
                if level == depth:
                    yield item
                    parents[-1].remove(item)  # bounded memory: done with it
                elif level < depth:
                    parents.pop()
                level -= 1


def root_tag(path: Path) -> str:
    """Return the tag of the document's root element (namespace included)."""
    with _reading(path), _opened(path) as source:
        for _event, item in iterparse(source, events=("start",)):
            return str(item.tag)
    raise ImportFileError(f"{path}: empty file")


def text_of(element: Element, tag: str) -> str:
    """Return the stripped text of the first child ``tag``, or ""."""
    return (element.findtext(tag) or "").strip()
