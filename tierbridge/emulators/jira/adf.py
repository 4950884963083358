"""The emulator's own Atlassian Document Format handling.

Jira stores rich text as ADF, returns it as ADF from API v3, and as wiki markup from API v2 and in
webhooks. The connector has its own converter; this one is kept separate so that a bug in one is
not mirrored by the other.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["AdfError", "adf_to_wiki", "check_adf", "text_to_adf"]

_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_WIKI_MARKS = {"strong": "*", "em": "_", "strike": "-", "underline": "+"}


class AdfError(ValueError):
    """A value given where an ADF document is expected is not one."""


def check_adf(value: object) -> dict[str, Any]:
    """Return `value` if it is an ADF document (`type: doc`, `version: 1`, a content list)."""
    if not isinstance(value, dict):
        msg = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        raise AdfError(msg)
    if value.get("type") != "doc" or value.get("version") != 1:
        raise AdfError("ADF document must have type 'doc' and version 1")
    if not isinstance(value.get("content"), list):
        raise AdfError("ADF document must have a content array")
    return value


def text_to_adf(text: str) -> dict[str, Any]:
    """Turn plain or wiki text into ADF paragraphs, one per block separated by a blank line."""
    paragraphs = []
    for block in _BLANK_LINES.split(text.replace("\r\n", "\n").strip("\n")):
        if not block.strip():
            continue
        inline: list[dict[str, Any]] = []
        for number, line in enumerate(block.split("\n")):
            if number:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_wiki(doc: dict[str, Any] | None) -> str | None:
    """Render an ADF document as Jira wiki markup, as API v2 and webhooks show it."""
    if doc is None:
        return None
    return "\n\n".join(_block(node) for node in doc.get("content", []))


def _block(node: dict[str, Any]) -> str:
    kind = node.get("type")
    children = node.get("content", [])
    if kind == "bulletList":
        return "\n".join("* " + _list_item(item) for item in children)
    if kind == "orderedList":
        return "\n".join("# " + _list_item(item) for item in children)
    if kind == "codeBlock":
        return "{code}" + _inline(children) + "{code}"
    if kind == "heading":
        return f"h{node.get('attrs', {}).get('level', 1)}. " + _inline(children)
    if kind == "rule":
        return "----"
    if kind in ("paragraph", None):
        return _inline(children)
    return "\n\n".join(_block(child) for child in children)


def _list_item(item: dict[str, Any]) -> str:
    return "\n".join(_block(child) for child in item.get("content", []))


def _inline(nodes: list[dict[str, Any]]) -> str:
    parts = []
    for node in nodes:
        kind = node.get("type")
        if kind == "hardBreak":
            parts.append("\n")
        elif kind == "text":
            parts.append(_marked(node.get("text", ""), node.get("marks", [])))
        elif kind in ("mention", "emoji"):
            parts.append(str(node.get("attrs", {}).get("text", "")))
        elif kind == "inlineCard":
            parts.append(str(node.get("attrs", {}).get("url", "")))
    return "".join(parts)


def _marked(text: str, marks: list[dict[str, Any]]) -> str:
    for mark in marks:
        kind = mark.get("type", "")
        if kind == "code":
            text = "{{" + text + "}}"
        elif kind == "link":
            text = f"[{text}|{mark.get('attrs', {}).get('href', '')}]"
        elif kind in _WIKI_MARKS:
            symbol = _WIKI_MARKS[kind]
            text = symbol + text + symbol
    return text
