from __future__ import annotations

import pytest

from tierbridge.connectors.jira.adf import adf_to_text, text_to_adf


def _doc(*blocks: dict[str, object]) -> dict[str, object]:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def _para(*inline: dict[str, object]) -> dict[str, object]:
    return {"type": "paragraph", "content": list(inline)}


def _text(value: str, *marks: str) -> dict[str, object]:
    node: dict[str, object] = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": mark} for mark in marks]
    return node


@pytest.mark.parametrize(
    "text",
    [
        "one line",
        "first\nsecond",
        "para one\n\npara two\nwith break",
        "  indented\n\n- a dash line\n1. numbered",
        "trailing spaces  \nnext",
        "",
    ],
)
def test_round_trip_stable(text: str) -> None:
    """Text in normal form comes back unchanged from text -> ADF -> text."""
    assert adf_to_text(text_to_adf(text)) == text


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("\n\nlead\n\n\n\ngap\n\n", "lead\n\ngap"),
        ("a\r\nb", "a\nb"),
        ("a\n   \nb", "a\n\nb"),
    ],
)
def test_round_trip_normalizes_once(text: str, normal: str) -> None:
    """Other text reaches the normal form after one round trip and then stays there."""
    once = adf_to_text(text_to_adf(text))

    assert once == normal
    assert adf_to_text(text_to_adf(normal)) == normal


def test_text_to_adf_shape() -> None:
    """Blank lines separate paragraphs; single newlines become hardBreak nodes."""
    assert text_to_adf("a\nb\n\nc") == _doc(
        _para(_text("a"), {"type": "hardBreak"}, _text("b")),
        _para(_text("c")),
    )


def test_marks_are_dropped() -> None:
    """Bold, code and links keep their text and lose the formatting."""
    doc = _doc(_para(_text("Error "), _text("E-809", "code"), _text(" now", "strong")))

    assert adf_to_text(doc) == "Error E-809 now"


def test_lists_become_lines() -> None:
    """Bullet items become "- " lines and ordered items numbered lines."""
    doc = _doc(
        _para(_text("Steps:")),
        {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [_para(_text("restart"))]},
                {"type": "listItem", "content": [_para(_text("retry"))]},
            ],
        },
        {
            "type": "orderedList",
            "attrs": {"order": 3},
            "content": [
                {"type": "listItem", "content": [_para(_text("third"))]},
            ],
        },
    )

    assert adf_to_text(doc) == "Steps:\n\n- restart\n- retry\n\n3. third"


def test_nested_list_indented() -> None:
    """A nested list is indented under its parent item."""
    inner = {
        "type": "bulletList",
        "content": [
            {"type": "listItem", "content": [_para(_text("child"))]},
        ],
    }
    doc = _doc(
        {
            "type": "bulletList",
            "content": [
                {"type": "listItem", "content": [_para(_text("parent")), inner]},
            ],
        }
    )

    assert adf_to_text(doc) == "- parent\n  - child"


def test_inline_nodes_keep_text() -> None:
    """Mentions, emoji and inline cards contribute their readable text."""
    doc = _doc(
        _para(
            {"type": "mention", "attrs": {"id": "1", "text": "@Alex"}},
            _text(" see "),
            {"type": "inlineCard", "attrs": {"url": "https://example.com/kb/1"}},
        )
    )

    assert adf_to_text(doc) == "@Alex see https://example.com/kb/1"


def test_other_blocks() -> None:
    """Headings, code blocks, panels and rules are read as plain blocks."""
    doc = _doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [_text("Title")]},
        {"type": "codeBlock", "content": [_text("ping host")]},
        {"type": "panel", "content": [_para(_text("inside"))]},
        {"type": "rule"},
    )

    assert adf_to_text(doc) == "Title\n\nping host\n\ninside\n\n---"


def test_none_stays_none() -> None:
    """A missing description reads as None."""
    assert adf_to_text(None) is None
