"""Config keys of a Jira Service Management connector."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tierbridge.core.connector_settings import ConnectorSettings

__all__ = ["JiraSettings"]


class JiraSettings(ConnectorSettings):
    """A Jira Cloud site and the JSM project that receives escalated tickets."""

    system: Literal["jira"]
    project: str = Field(min_length=1)
    service_desk_id: str = Field(min_length=1)
    request_type_id: str = Field(min_length=1)
    #: Text custom field that stores the other side's ticket id, for create-once searches.
    correlation_field: str = Field(default="customfield_10060", pattern=r"^customfield_\d+$")
    #: Single-select custom field that holds the ticket category (read and written by value).
    category_field: str = Field(default="customfield_10050", pattern=r"^customfield_\d+$")
    #: Resolution set when a transition to a done status requires one and none is mapped.
    default_resolution: str = "Done"
