"""A scripted human L2 agent who works tickets through the Jira REST API, for demos and tests.

It makes the calls a person's browser would cause, with plain `requests`, so it exercises the
emulator (or a real site) independently of the connector. Failed calls raise
`requests.HTTPError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from tierbridge.emulators.jira.adf import text_to_adf

__all__ = ["JiraAgent"]

_TIMEOUT_SECONDS = 10.0


class JiraAgent:
    """One agent account on one site; use one instance per thread."""

    def __init__(self, base_url: str, ca_cert: Path, email: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._verify = str(ca_cert)
        self._session = requests.Session()
        # Environment CA bundles (REQUESTS_CA_BUNDLE) would override the emulator's CA.
        self._session.trust_env = False
        self._session.auth = (email, token)

    def close(self) -> None:
        self._session.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._session.request(
            method, self.base_url + path, verify=self._verify, timeout=_TIMEOUT_SECONDS, **kwargs
        )
        response.raise_for_status()
        return response

    def get_issue(self, key: str) -> dict[str, Any]:
        """Return the issue as API v3 sends it, with every field."""
        body: dict[str, Any] = self._call("GET", f"/rest/api/3/issue/{key}").json()
        return body

    def transition_to(self, key: str, status_name: str, resolution: str | None = None) -> None:
        """Move the issue to the status called `status_name` via the transition that leads there."""
        listed = self._call(
            "GET", f"/rest/api/3/issue/{key}/transitions", params={"expand": "transitions.fields"}
        ).json()["transitions"]
        match = next((item for item in listed if item["to"]["name"] == status_name), None)
        if match is None:
            targets = ", ".join(item["to"]["name"] for item in listed) or "none"
            msg = f"{key} has no transition to {status_name!r}; available targets: {targets}"
            raise ValueError(msg)
        payload: dict[str, Any] = {"transition": {"id": match["id"]}}
        if resolution is not None:
            payload["fields"] = {"resolution": {"name": resolution}}
        self._call("POST", f"/rest/api/3/issue/{key}/transitions", json=payload)

    def add_comment(self, key: str, text: str, *, public: bool) -> dict[str, Any]:
        """Comment through the platform API; an internal note carries `sd.public.comment`."""
        payload: dict[str, Any] = {"body": text_to_adf(text)}
        if not public:
            payload["properties"] = [{"key": "sd.public.comment", "value": {"internal": True}}]
        body: dict[str, Any] = self._call(
            "POST", f"/rest/api/3/issue/{key}/comment", json=payload
        ).json()
        return body

    def attach(
        self, key: str, filename: str, content: bytes, content_type: str | None = None
    ) -> dict[str, Any]:
        """Upload one file as the browser does and return the attachment Jira created."""
        part = (filename, content, content_type or "application/octet-stream")
        created: list[dict[str, Any]] = self._call(
            "POST",
            f"/rest/api/3/issue/{key}/attachments",
            files={"file": part},
            headers={"X-Atlassian-Token": "no-check"},
        ).json()
        return created[0]

    def list_attachments(self, key: str) -> list[dict[str, Any]]:
        """Return the issue's `attachment` field: one object per file, without the bytes."""
        issue = self._call("GET", f"/rest/api/3/issue/{key}", params={"fields": "attachment"})
        listed: list[dict[str, Any]] = issue.json()["fields"]["attachment"]
        return listed

    def download(self, attachment_id: str) -> bytes:
        """Return a file's bytes, following the download redirect as a browser does."""
        return self._call("GET", f"/rest/api/3/attachment/content/{attachment_id}").content

    def update_fields(self, key: str, **fields: Any) -> None:
        """Edit fields given in Jira's v3 wire form; a `description` string is sent as ADF."""
        if isinstance(fields.get("description"), str):
            fields["description"] = text_to_adf(fields["description"])
        self._call("PUT", f"/rest/api/3/issue/{key}", json={"fields": fields})

    def search(self, jql: str, fields: tuple[str, ...] = ("*navigable",)) -> list[dict[str, Any]]:
        """Return every issue matching `jql`, following `nextPageToken` to the last page."""
        issues: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            payload: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": 100}
            if token:
                payload["nextPageToken"] = token
            page = self._call("POST", "/rest/api/3/search/jql", json=payload).json()
            issues.extend(page["issues"])
            token = page.get("nextPageToken")
            if page.get("isLast", True) or not token:
                return issues
