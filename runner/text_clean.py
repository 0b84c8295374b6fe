"""Text hygiene applied when a corpus is loaded (``dataset.clean``).

Raw news dumps carry markup that becomes topic words: HTML entities (``&lt;b&gt;``, ``&#39;s``),
entities escaped twice (``&amp;#39;``), entities whose ``&`` was lost (AG News' ``#39;s``,
``quot;``), tags, URLs and e-mail addresses. The cleaned text is what the content hash, the
embeddings and the tokens all see.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.errors import UserError

# An entity whose "&" was lost upstream (AG News: "Microsoft #39;s", "lt;b&gt;"): numeric ones anywhere,
# the common named ones only at the start of a word (so "salt;" stays).
_BARE_ENTITY = re.compile(r"(?<!&)(#\d{1,7};|#[xX][0-9a-fA-F]{1,6};)|(?<![&\w])((?:quot|amp|lt|gt|apos|nbsp);)")
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>", re.DOTALL)
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"']*[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MAX_UNESCAPE_ROUNDS = 3  # "&amp;amp;#39;" needs three


@dataclass(frozen=True)
class CleanOptions:
    """What :func:`clean_text` does.

    Attributes:
        html: Unescape HTML entities (also double-escaped and ``&``-less ones) and strip tags.
        urls: Remove URLs (``http://``, ``https://``, ``ftp://``, ``www.``).
        emails: Remove e-mail addresses.
    """

    html: bool = True
    urls: bool = False
    emails: bool = False

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> CleanOptions:
        """``dataset.clean`` as given in the config (None = defaults).

        Raises:
            UserError: An unknown key or a value that is not true/false.
        """
        if options is None:
            return cls()
        known = ("html", "urls", "emails")
        for key, value in options.items():
            if key not in known:
                raise UserError(f"unknown key dataset.clean.{key}; use {', '.join(known)}")
            if not isinstance(value, bool):
                raise UserError(f"dataset.clean.{key} must be true or false, not '{value}'")
        return cls(**dict(options))


def clean_text(text: str, options: CleanOptions) -> str:
    """One document after the configured cleaning (tags and removed parts become one space)."""
    if options.html:
        text = unescape_html(text)
        text = _TAG.sub(" ", text)
    if options.urls:
        text = _URL.sub(" ", text)
    if options.emails:
        text = _EMAIL.sub(" ", text)
    return text


def unescape_html(text: str) -> str:
    """HTML entities decoded, including double-escaped (``&amp;#39;``) and ``&``-less (``#39;``) ones."""
    if "&" not in text and ";" not in text:
        return text
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return html.unescape(_BARE_ENTITY.sub(lambda match: "&" + (match.group(1) or match.group(2)), text))
