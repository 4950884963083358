"""A human support agent working in Salesforce, driven through real REST calls.

The demo and end-to-end tests use it to make the changes a person would make in the
Service Console, so that the daemon receives them as it would from a real org.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import requests

from tierbridge.emulators.salesforce.emulator import DEFAULT_CLIENTS

__all__ = ["SalesforceAgent"]

_TIMEOUT_SECONDS = 10.0
_API_VERSION = "62.0"
_AGENT_CLIENT = "agent-console"


class SalesforceAgent:
    """Create, read, update, comment on and attach files to Cases as one user.

    Every call that gets an HTTP error raises HTTPError. The agent signs in with the
    client-credentials grant of a connected app (by default the emulator's `agent-console`
    app, which runs as `agent.sf@example.com`).
    """

    def __init__(
        self,
        base_url: str,
        ca_cert: Path,
        client_id: str = _AGENT_CLIENT,
        client_secret: str | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._data = f"{self._base}/services/data/v{_API_VERSION}"
        # Passed per request: a session-level `verify` loses to REQUESTS_CA_BUNDLE.
        self._ca_cert = str(ca_cert)
        self._session = requests.Session()
        secret = client_secret if client_secret is not None else DEFAULT_CLIENTS[client_id][0]
        self._session.headers["Authorization"] = f"Bearer {self._token(client_id, secret)}"

    def _token(self, client_id: str, secret: str) -> str:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        response = self._session.post(
            f"{self._base}/services/oauth2/token",
            data=form,
            timeout=_TIMEOUT_SECONDS,
            verify=self._ca_cert,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._session.request(
            method, f"{self._data}{path}", timeout=_TIMEOUT_SECONDS, verify=self._ca_cert, **kwargs
        )
        response.raise_for_status()
        return response

    def create_case(self, **fields: Any) -> dict[str, Any]:
        """Create a Case and return it as stored."""
        created = self._call("POST", "/sobjects/Case", json=fields).json()
        return self.get_case(str(created["id"]))

    def update_case(self, case_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a Case and return it as stored."""
        self._call("PATCH", f"/sobjects/Case/{case_id}", json=fields)
        return self.get_case(case_id)

    def add_comment(self, case_id: str, text: str, *, internal: bool) -> dict[str, Any]:
        """Post a CaseComment, published to the customer unless `internal`; return it."""
        body = {"ParentId": case_id, "CommentBody": text, "IsPublished": not internal}
        created = self._call("POST", "/sobjects/CaseComment", json=body).json()
        comment: dict[str, Any] = self._call("GET", f"/sobjects/CaseComment/{created['id']}").json()
        return comment

    def get_case(self, case_id: str) -> dict[str, Any]:
        """Read one Case with every field."""
        case: dict[str, Any] = self._call("GET", f"/sobjects/Case/{case_id}").json()
        return case

    def list_comments(self, case_id: str) -> list[dict[str, Any]]:
        """Read the comments of a Case, oldest first."""
        if not case_id.isalnum():
            raise ValueError(f"{case_id!r} is not a Salesforce id")
        soql = (
            "SELECT Id, CommentBody, IsPublished, CreatedById, CreatedDate FROM CaseComment "  # noqa: S608 - the id is alphanumeric
            f"WHERE ParentId = '{case_id}' ORDER BY CreatedDate, Id"
        )
        return self._query(soql)

    def attach(
        self, case_id: str, filename: str, content: bytes, content_type: str | None = None
    ) -> dict[str, Any]:
        """Upload a file to a Case as the Files related list does; return its ContentVersion.

        `content_type` is not sent, because an org derives the file type from the extension
        of `filename`.
        """
        body = {
            "Title": filename.rpartition(".")[0] or filename,
            "PathOnClient": filename,
            "VersionData": base64.b64encode(content).decode("ascii"),
            "FirstPublishLocationId": case_id,
        }
        created = self._call("POST", "/sobjects/ContentVersion", json=body).json()
        version: dict[str, Any] = self._call(
            "GET", f"/sobjects/ContentVersion/{created['id']}"
        ).json()
        return version

    def list_files(self, case_id: str) -> list[dict[str, Any]]:
        """Read the files linked to a Case (ContentDocumentLink rows), in the org's order."""
        if not case_id.isalnum():
            raise ValueError(f"{case_id!r} is not a Salesforce id")
        soql = (
            "SELECT ContentDocumentId, ContentDocument.Title, "  # noqa: S608 - the id is alphanumeric
            "ContentDocument.LatestPublishedVersionId, ContentDocument.ContentSize, "
            "ContentDocument.LatestPublishedVersion.PathOnClient "
            f"FROM ContentDocumentLink WHERE LinkedEntityId = '{case_id}'"
        )
        return self._query(soql)

    def download(self, version_id: str) -> bytes:
        """Read the bytes of one ContentVersion."""
        return self._call("GET", f"/sobjects/ContentVersion/{version_id}/VersionData").content

    def _query(self, soql: str) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        page = self._call("GET", "/query", params={"q": soql}).json()
        records.extend(page["records"])
        while not page["done"]:
            page = self._call("GET", page["nextRecordsUrl"].split(f"v{_API_VERSION}", 1)[1]).json()
            records.extend(page["records"])
        return records

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> SalesforceAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
