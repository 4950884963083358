"""Convert between Atlassian Document Format (Jira API v3 rich text) and plain text.

Reading keeps the words and the line structure and drops formatting: paragraphs and other
blocks are separated by a blank line, `hardBreak` becomes a newline, marks (bold, code, links)
are dropped, bullet list items become "- " lines and ordered ones "1. " lines. Writing makes one
paragraph per block of text between blank lines, with a `hardBreak` for each single newline.
Text in that normal form (no leading, trailing or repeated blank lines) survives
text -> ADF -> text unchanged; other text reaches the normal form after one round trip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["adf_to_text", "text_to_adf"]

_BLANK_LINE = re.compile(r"\n(?:[ \t]*\n)+")
_INLINE_ATTRIBUTE = {"mention": "text", "emoji": "text", "inlineCard": "url", "status": "text"}


def text_to_adf(text: str) -> dict[str, Any]:
    """Return an ADF document with one paragraph per block of `text`."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    paragraphs = []
    for block in _BLANK_LINE.split(normal):
        if not block.strip():
            continue
        inline: list[dict[str, Any]] = []
        for index, line in enumerate(block.split("\n")):
            if index:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(document: Mapping[str, Any] | None) -> str | None:
    """Return the plain text of an ADF document, or None for a missing one."""
    if document is None:
        return None
    blocks = [_block_text(node) for node in document.get("content", [])]
    return "\n\n".join(block for block in blocks if block)


def _block_text(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    children = node.get("content", [])
    if kind == "bulletList":
        return "\n".join(_list_item(item, "- ") for item in children)
    if kind == "orderedList":
        first = int(node.get("attrs", {}).get("order", 1))
        return "\n".join(
            _list_item(item, f"{first + number}. ") for number, item in enumerate(children)
        )
    if kind == "rule":
        return "---"
    if kind in ("paragraph", "heading", "codeBlock"):
        return _inline_text(children)
    if kind == "text":
        return str(node.get("text", ""))
    blocks = [_block_text(child) for child in children]
    return "\n\n".join(block for block in blocks if block)


def _list_item(item: Mapping[str, Any], marker: str) -> str:
    """Render a list item as `marker` + its text; nested lines are indented two spaces."""
    parts = [_block_text(child) for child in item.get("content", [])]
    lines = "\n".join(part for part in parts if part).split("\n")
    return marker + lines[0] + "".join("\n  " + line for line in lines[1:])


def _inline_text(nodes: list[Mapping[str, Any]]) -> str:
    parts = []
    for node in nodes:
        kind = node.get("type")
        if kind == "text":
            parts.append(str(node.get("text", "")))
        elif kind == "hardBreak":
            parts.append("\n")
        elif kind in _INLINE_ATTRIBUTE:
            parts.append(str(node.get("attrs", {}).get(_INLINE_ATTRIBUTE[kind], "")))
    return "".join(parts)
