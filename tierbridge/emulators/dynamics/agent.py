"""A human service-desk agent working in Dynamics 365, driven through real Web API calls.

The demo and end-to-end tests use it to make the changes a person would make in the app, so
that the daemon receives them as it would from a real organisation.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import requests

from tierbridge.emulators.dynamics.emulator import AGENT_CLIENT, TENANT_ID

__all__ = ["DynamicsAgent"]

_TIMEOUT_SECONDS = 10.0
_API = "/api/data/v9.2"
_PREFER = 'return=representation,odata.include-annotations="*"'


class DynamicsAgent:
    """Create, update, note, attach files to, resolve and read cases as one user.

    HTTP errors raise `requests.HTTPError`.

    Field values are Web API values: option-set integers (`prioritycode=1`) and
    `<navigation>@odata.bind` paths for lookups. Reads return the rows with annotations.
    """

    def __init__(
        self,
        base_url: str,
        ca_cert: Path,
        *,
        client: tuple[str, str] = AGENT_CLIENT,
        tenant_id: str = TENANT_ID,
    ) -> None:
        self._base = base_url.rstrip("/")
        # Passed per request: a session-level `verify` loses to REQUESTS_CA_BUNDLE.
        self._ca_cert = str(ca_cert)
        self._session = requests.Session()
        self._session.headers.update(
            {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
        )
        token = self._token(tenant_id, client)
        self._session.headers["Authorization"] = f"Bearer {token}"

    def _token(self, tenant_id: str, client: tuple[str, str]) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": client[0],
            "client_secret": client[1],
            "scope": f"{self._base}/.default",
        }
        url = f"{self._base}/{tenant_id}/oauth2/v2.0/token"
        response = self._session.post(
            url, data=form, timeout=_TIMEOUT_SECONDS, verify=self._ca_cert
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def _call(self, method: str, path: str, *, body: Any = None, **headers: str) -> Any:
        response = self._session.request(
            method,
            f"{self._base}{_API}/{path}",
            json=body,
            headers=headers,
            timeout=_TIMEOUT_SECONDS,
            verify=self._ca_cert,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def create_incident(self, **fields: Any) -> dict[str, Any]:
        """Create a case and return it as stored."""
        result: dict[str, Any] = self._call("POST", "incidents", body=fields, Prefer=_PREFER)
        return result

    def update_incident(self, incident_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of an existing case (never creating one) and return it as stored."""
        result: dict[str, Any] = self._call(
            "PATCH", f"incidents({incident_id})", body=fields, Prefer=_PREFER, **{"If-Match": "*"}
        )
        return result

    def add_note(self, incident_id: str, text: str, subject: str = "Agent note") -> dict[str, Any]:
        """Attach a note (annotation) to a case and return it."""
        body = {
            "subject": subject,
            "notetext": text,
            "objectid_incident@odata.bind": f"/incidents({incident_id})",
        }
        result: dict[str, Any] = self._call("POST", "annotations", body=body, Prefer=_PREFER)
        return result

    def attach(
        self,
        incident_id: str,
        filename: str,
        content: bytes,
        content_type: str | None = None,
        *,
        text: str | None = None,
    ) -> dict[str, Any]:
        """Attach a file to a case as a note with a document, and return the note.

        `text` fills the note's text, as an agent may type a line above the file.
        """
        body: dict[str, Any] = {
            "subject": filename,
            "isdocument": True,
            "filename": filename,
            "documentbody": base64.b64encode(content).decode("ascii"),
            "objectid_incident@odata.bind": f"/incidents({incident_id})",
        }
        if content_type is not None:
            body["mimetype"] = content_type
        if text is not None:
            body["notetext"] = text
        result: dict[str, Any] = self._call("POST", "annotations", body=body, Prefer=_PREFER)
        return result

    def list_attachments(self, incident_id: str) -> list[dict[str, Any]]:
        """Read the file notes of a case, oldest first, without their bytes."""
        path = (
            f"incidents({incident_id})/Incident_Annotation"
            "?$select=annotationid,filename,mimetype,filesize,notetext,createdon"
            "&$filter=isdocument eq true&$orderby=createdon asc"
        )
        result: list[dict[str, Any]] = self._call("GET", path)["value"]
        return result

    def download(self, annotation_id: str) -> bytes:
        """Read the bytes of a note's file through `documentbody/$value` (Base64 text)."""
        response = self._session.get(
            f"{self._base}{_API}/annotations({annotation_id})/documentbody/$value",
            timeout=_TIMEOUT_SECONDS,
            verify=self._ca_cert,
        )
        response.raise_for_status()
        return base64.b64decode(response.text)

    def resolve(self, incident_id: str, *, status: int = 5, subject: str = "Resolved") -> None:
        """Resolve a case through the CloseIncident action."""
        resolution = {
            "@odata.type": "Microsoft.Dynamics.CRM.incidentresolution",
            "subject": subject,
            "incidentid@odata.bind": f"/incidents({incident_id})",
        }
        self._call(
            "POST", "CloseIncident", body={"IncidentResolution": resolution, "Status": status}
        )

    def get_incident(self, incident_id: str) -> dict[str, Any]:
        """Read one case with its annotations."""
        result: dict[str, Any] = self._call(
            "GET", f"incidents({incident_id})", Prefer='odata.include-annotations="*"'
        )
        return result

    def list_notes(self, incident_id: str) -> list[dict[str, Any]]:
        """Read the notes of a case, oldest first."""
        path = f"incidents({incident_id})/Incident_Annotation?$orderby=createdon asc"
        result: list[dict[str, Any]] = self._call("GET", path)["value"]
        return result

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def __enter__(self) -> DynamicsAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
