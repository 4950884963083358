from __future__ import annotations

import pytest

from tierbridge.emulators.jira.adf import AdfError, adf_to_wiki, check_adf, text_to_adf


def test_text_to_adf_paragraphs() -> None:
    """Blank lines split paragraphs; single newlines become hard breaks."""
    doc = text_to_adf("one\ntwo\n\nthree")

    assert doc["content"] == [
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "one"},
                {"type": "hardBreak"},
                {"type": "text", "text": "two"},
            ],
        },
        {"type": "paragraph", "content": [{"type": "text", "text": "three"}]},
    ]


def test_wiki_renders_marks_and_lists() -> None:
    """Bold, code and lists come out as Jira wiki markup, as in API v2."""
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Error "},
                    {"type": "text", "text": "E-809", "marks": [{"type": "code"}]},
                    {"type": "text", "text": " now", "marks": [{"type": "strong"}]},
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "a"}]}
                        ],
                    },
                ],
            },
        ],
    }

    assert adf_to_wiki(doc) == "Error {{E-809}}* now*\n\n* a"


@pytest.mark.parametrize("value", ["text", {"type": "paragraph"}, {"type": "doc", "version": 1}])
def test_check_adf_rejects_non_documents(value: object) -> None:
    """Strings and documents without type doc, version 1 and content are refused."""
    with pytest.raises(AdfError):
        check_adf(value)
