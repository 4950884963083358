"""A human service-desk agent working in ServiceNow, driven through real REST calls.

The demo and end-to-end tests use it to make the changes a person would make in the UI, so
that the daemon receives them as it would from a real instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

__all__ = ["ServiceNowAgent"]

_TIMEOUT_SECONDS = 10.0
#: Values as a person types them: references by name, choices by label, dates in their zone.
_WRITE_PARAMS = {
    "sysparm_input_display_value": "true",
    "sysparm_exclude_reference_link": "true",
}
_READ_PARAMS = {"sysparm_exclude_reference_link": "true"}


class ServiceNowAgent:
    """Create, update, comment on, attach files to and read incidents as one user.

    HTTP errors raise HTTPError. Writes send display values, so `state="In Progress"` or
    `assignment_group="Outsourced L2"` work as well as sys_ids and choice values. Reads return
    stored values (sys_ids, UTC dates).
    """

    def __init__(self, base_url: str, ca_cert: Path, username: str, password: str) -> None:
        self._base = base_url.rstrip("/")
        self._session = requests.Session()
        self._session.auth = (username, password)
        # Passed per request: a session-level `verify` loses to REQUESTS_CA_BUNDLE.
        self._ca_cert = str(ca_cert)
        self._session.headers["Accept"] = "application/json"

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._session.request(
            method,
            f"{self._base}{path}",
            timeout=_TIMEOUT_SECONDS,
            verify=self._ca_cert,
            **kwargs,
        )
        response.raise_for_status()
        return response

    def _call(self, method: str, path: str, params: dict[str, str], body: Any = None) -> Any:
        return self._send(method, path, params=params, json=body).json()["result"]

    def create_incident(self, **fields: Any) -> dict[str, Any]:
        """Create an incident and return it as stored."""
        result: dict[str, Any] = self._call(
            "POST", "/api/now/table/incident", _WRITE_PARAMS, fields
        )
        return result

    def update_incident(self, sys_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of an incident and return it as stored."""
        path = f"/api/now/table/incident/{sys_id}"
        result: dict[str, Any] = self._call("PATCH", path, _WRITE_PARAMS, fields)
        return result

    def add_comment(self, sys_id: str, text: str, *, internal: bool) -> dict[str, Any]:
        """Post a work note (`internal`) or a customer-visible comment; return the incident."""
        element = "work_notes" if internal else "comments"
        return self.update_incident(sys_id, **{element: text})

    def get_incident(self, sys_id: str) -> dict[str, Any]:
        """Read one incident."""
        result: dict[str, Any] = self._call(
            "GET", f"/api/now/table/incident/{sys_id}", _READ_PARAMS
        )
        return result

    def list_journal(self, sys_id: str) -> list[dict[str, Any]]:
        """Read the comments and work notes of an incident, oldest first."""
        params = {**_READ_PARAMS, "sysparm_query": f"element_id={sys_id}^ORDERBYsys_created_on"}
        result: list[dict[str, Any]] = self._call("GET", "/api/now/table/sys_journal_field", params)
        return result

    def attach(
        self,
        sys_id: str,
        filename: str,
        content: bytes,
        content_type: str = "application/octet-stream",
        *,
        table: str = "incident",
    ) -> dict[str, Any]:
        """Attach a file to a record through the Attachment API and return its metadata."""
        params = {"table_name": table, "table_sys_id": sys_id, "file_name": filename}
        headers = {"Content-Type": content_type}
        response = self._send(
            "POST", "/api/now/attachment/file", params=params, data=content, headers=headers
        )
        result: dict[str, Any] = response.json()["result"]
        return result

    def list_attachments(self, sys_id: str, *, table: str = "incident") -> list[dict[str, Any]]:
        """Read the metadata of the files attached to a record, oldest first."""
        query = f"table_name={table}^table_sys_id={sys_id}^ORDERBYsys_created_on"
        result: list[dict[str, Any]] = self._call(
            "GET", "/api/now/attachment", {"sysparm_query": query}
        )
        return result

    def download(self, attachment_sys_id: str) -> bytes:
        """Read the bytes of one attached file."""
        path = f"/api/now/attachment/{attachment_sys_id}/file"
        return self._send("GET", path, headers={"Accept": "*/*"}).content

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> ServiceNowAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
