from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.connectors.salesforce.records import (
    NATIVE_FIELDS,
    case_fields,
    format_version,
    parse_timestamp,
    to_comment,
    to_native,
)

OWN = "005Hs000001AbCdIAK"
OTHER = "005Hs000002ZzZzIAK"


def row(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "attributes": {"type": "Case"},
        "Id": "500Hs00001XyZaBIAV",
        "CaseNumber": "00001026",
        "CreatedDate": "2024-05-01T07:15:42.000+0000",
        "LastModifiedById": OWN,
        "SystemModstamp": "2024-05-01T09:03:10.000+0000",
        "OwnerId": "005Hs000001AbCd",
        "External_Ref__c": "snow:x",
        "CaseComments": None,
    }
    base.update(values)
    return base


def native(data: dict[str, Any], integration_user: str | None = "svc@example.com") -> Any:
    return to_native(
        data,
        correlation_field="External_Ref__c",
        own_user_id=OWN,
        integration_user=integration_user,
    )


@pytest.mark.parametrize(
    "text",
    ["2024-05-01T09:03:10.000+0000", "2024-05-01T09:03:10.000Z", "2024-05-01T11:03:10+02:00"],
)
def test_parse_timestamp_forms(text: str) -> None:
    """REST, outbound message and offset forms parse to the same UTC instant."""
    assert parse_timestamp(text) == datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)


def test_parse_timestamp_rejects() -> None:
    """A date-time without a zone raises ValueError."""
    with pytest.raises(ValueError, match="zone"):
        parse_timestamp("2024-05-01T09:03:10")


def test_format_version_sorts() -> None:
    """Versions are UTC with milliseconds and Z."""
    moment = datetime(2024, 5, 1, 9, 3, 10, 117000, tzinfo=UTC)

    assert format_version(moment) == "2024-05-01T09:03:10.117Z"


def test_case_fields_select_list() -> None:
    """Every read selects system and native fields, the key, the newest comment and file link."""
    fields = case_fields("Ref__c")

    assert fields[:5] == ["Id", "CaseNumber", "CreatedDate", "LastModifiedById", "SystemModstamp"]
    assert set(NATIVE_FIELDS) <= set(fields)
    assert "Ref__c" in fields
    assert fields[-2].startswith("(SELECT SystemModstamp FROM CaseComments")
    assert fields[-1].startswith("(SELECT SystemModstamp FROM ContentDocumentLinks")


def test_native_own_change() -> None:
    """A change by our user reports the configured integration user; ids are 18 characters."""
    record = native(row())

    assert record.id == "500Hs00001XyZaBIAV"
    assert record.key == "00001026"
    assert record.version == "2024-05-01T09:03:10.000Z"
    assert record.updated_by == "svc@example.com"
    assert record.fields["OwnerId"] == OWN
    assert record.fields["External_Ref__c"] == "snow:x"
    assert record.created == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)


def test_native_other_user() -> None:
    """A change by anyone else reports their user id."""
    assert native(row(LastModifiedById=OTHER)).updated_by == OTHER


def test_native_own_without_config() -> None:
    """Without integration_user, our own change reports our user id."""
    assert native(row(), integration_user=None).updated_by == OWN


def test_native_version_from_comment() -> None:
    """A newer comment makes the version and `updated` the comment's stamp."""
    comments = {
        "totalSize": 1,
        "done": True,
        "records": [{"SystemModstamp": "2024-05-01T10:00:00.000+0000"}],
    }

    record = native(row(CaseComments=comments))

    assert record.version == "2024-05-01T10:00:00.000Z"
    assert record.updated == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_native_older_comment_ignored() -> None:
    """A comment older than the Case leaves the Case's stamp as the version."""
    comments = {"records": [{"SystemModstamp": "2024-05-01T08:00:00.000+0000"}]}

    assert native(row(CaseComments=comments)).version == "2024-05-01T09:03:10.000Z"


def test_native_version_from_file() -> None:
    """A file link newer than the Case and its comments makes the version the link's stamp."""
    comments = {"records": [{"SystemModstamp": "2024-05-01T10:00:00.000+0000"}]}
    files = {"records": [{"SystemModstamp": "2024-05-01T11:30:00.000+0000"}]}

    record = native(row(CaseComments=comments, ContentDocumentLinks=files))

    assert record.version == "2024-05-01T11:30:00.000Z"
    assert record.updated == datetime(2024, 5, 1, 11, 30, tzinfo=UTC)


def test_native_older_file_ignored() -> None:
    """A file link older than the Case leaves the Case's stamp as the version."""
    files = {"records": [{"SystemModstamp": "2024-05-01T08:00:00.000+0000"}]}

    assert native(row(ContentDocumentLinks=files)).version == "2024-05-01T09:03:10.000Z"


def test_comment_visibility_and_author() -> None:
    """IsPublished true is public; the author is CreatedBy.Name, else the creator's id."""
    named = to_comment(
        {
            "Id": "00aHs00000AbCdE",
            "CommentBody": "hi",
            "IsPublished": True,
            "CreatedById": OWN,
            "CreatedBy": {"attributes": {}, "Name": "Alex Doe"},
            "CreatedDate": "2024-05-01T07:15:42.000+0000",
        }
    )
    unnamed = to_comment(
        {"Id": "00aHs00000AbCdF", "CommentBody": None, "IsPublished": False, "CreatedById": OWN}
    )

    assert named.public is True
    assert named.author == "Alex Doe"
    assert named.source_id == normalize_id("00aHs00000AbCdE")
    assert unnamed.public is False
    assert unnamed.body == ""
    assert unnamed.author == OWN
    assert unnamed.created is None
