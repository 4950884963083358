"""All HTTP to one Jira Cloud site: the `jira` client, error translation and the calls we make.

The `jira.JIRA` client is built without its server-info probe, so construction makes no network
call. It is marked as Cloud instead, which makes `enhanced_search_issues` use `/search/jql`. The
library's own retries are off because `core.retry` owns retries.

Calls the library has no fitting method for (JSM request creation with a request-type id, JSM
comments, issue edits with a raw body, the comment page, attachments) go through the client's
own session, so they share its auth, headers, timeout and adapter. The library's
`add_attachment` is not used: it labels every file `application/octet-stream` and raises
for an empty file.

The session's adapter logs one `api_call` line per HTTP request, including those the library
makes by itself (the `/field` lookup before the first search), and applies the CA bundle to
each request, since `REQUESTS_CA_BUNDLE` would otherwise override a session-level `verify`.
It also sends every request through the connector's `Limiter`. A write to one issue runs in
the scope `issue:<id or key>`, so a 429 for Jira's per-issue write limit holds back only
that issue, while any other 429 holds back the whole connector.

The API token is static, so a 401 leads to neither a token refresh nor a replay.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from jira import JIRA
from requests.adapters import HTTPAdapter
from urllib3 import encode_multipart_formdata

from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.connectors.jira.translate import translate_errors
from tierbridge.core.connector_settings import BasicAuth
from tierbridge.core.errors import ConfigError, RetryableError
from tierbridge.core.limits import CONNECTOR_SCOPE, Limiter, ensure_same_host, jira_signal

__all__ = ["JiraClient", "ensure_same_host", "path_template", "request_scope", "translate_errors"]

_log = structlog.get_logger(__name__)
_TEMPLATES = (
    (re.compile(r"/(issue|request)/[^/]+"), r"/\1/{issueIdOrKey}"),
    (re.compile(r"/comment/[^/]+"), "/comment/{commentId}"),
    (re.compile(r"/servicedesk/[^/]+"), "/servicedesk/{serviceDeskId}"),
    (re.compile(r"/attachment/(content/)?\d+"), r"/attachment/\1{attachmentId}"),
    (re.compile(r"^/file/[^/]+"), "/file/{fileId}"),
)
_ISSUE_IN_PATH = re.compile(r"/(?:issue|request)/([^/?]+)")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def path_template(url: str) -> str:
    """Return the URL's path with issue keys and ids replaced by placeholders, for logs."""
    path = urlsplit(url).path
    for pattern, replacement in _TEMPLATES:
        path = pattern.sub(replacement, path)
    return path


def request_scope(method: str | None, url: str) -> str:
    """Return the limiter scope of a request: `issue:<id>` for a write to one issue."""
    found = _ISSUE_IN_PATH.search(urlsplit(url).path)
    if found and (method or "").upper() in _WRITE_METHODS:
        return f"issue:{found.group(1)}"
    return CONNECTOR_SCOPE


class _LoggingAdapter(HTTPAdapter):
    """Log one line per request, pin the CA bundle and apply the rate limit on every request."""

    def __init__(self, connector: str, ca_bundle: str | None, limiter: Limiter) -> None:
        super().__init__(max_retries=0)
        self._connector = connector
        self._ca_bundle = ca_bundle
        self.limiter = limiter

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        verify = self._ca_bundle if self._ca_bundle is not None else verify
        kwargs: dict[str, Any] = {
            "stream": stream,
            "timeout": timeout,
            # TLS verification stays on whatever a caller passes: there is no insecure mode.
            "verify": True if verify is False else verify,
            "cert": cert,
            "proxies": proxies,
        }
        fields = {
            "connector": self._connector,
            "method": request.method,
            "path": path_template(request.url or ""),
        }
        scope = request_scope(request.method, request.url or "")
        with self.limiter.permit(scope, operation=f"{request.method} {fields['path']}"):
            started = time.perf_counter()
            try:
                response: requests.Response = super().send(request, **kwargs)
            except requests.RequestException as exc:
                duration_ms = round((time.perf_counter() - started) * 1000)
                _log.info(
                    "api_call",
                    **fields,
                    status=None,
                    duration_ms=duration_ms,
                    error=type(exc).__name__,
                )
                raise
            duration_ms = round((time.perf_counter() - started) * 1000)
            _log.info("api_call", **fields, status=response.status_code, duration_ms=duration_ms)
            body = response.content if response.status_code >= 400 and not stream else b""
            self.limiter.observe(response.status_code, response.headers, body, scope)
        return response


def _credentials(settings: JiraSettings) -> tuple[str, str]:
    if not isinstance(settings.auth, BasicAuth):
        msg = "jira connectors use auth type 'basic': the account e-mail and an API token"
        raise ConfigError(msg)
    return settings.auth.username, settings.auth.password.resolve()


class JiraClient:
    """The calls the connector makes, each returning decoded JSON; not thread-safe."""

    def __init__(self, connector: str, settings: JiraSettings) -> None:
        self.connector = connector
        self._settings = settings
        ca_bundle = str(settings.ca_bundle) if settings.ca_bundle is not None else None
        self._jira = JIRA(
            server=settings.url,
            basic_auth=_credentials(settings),
            options={"verify": ca_bundle or True, "rest_api_version": "3"},
            max_retries=0,
            timeout=settings.timeout_seconds,
            get_server_info=False,
            logging=False,
        )
        # Without the server-info probe the library would treat the site as Data Center.
        self._jira.deploymentType = "Cloud"
        limiter = Limiter.from_settings(connector, settings.rate_limit, jira_signal)
        adapter = _LoggingAdapter(connector, ca_bundle, limiter)
        #: The connector's rate limiter, shared by every request of this client.
        self.limiter = limiter
        self._session: requests.Session = self._jira._session
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def close(self) -> None:
        self._session.close()

    def _translate(self, operation: str, record: str | None = None) -> Any:
        return translate_errors(self.connector, operation, record)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send through the library's session; it raises JIRAError for any status >= 400."""
        response: requests.Response = self._session.request(
            method, self._settings.url + path, **kwargs
        )
        return response

    def myself(self) -> dict[str, Any]:
        with self._translate("read the integration account"):
            body: dict[str, Any] = self._jira.myself()
        return body

    def search_page(
        self, jql: str, fields: list[str], page_size: int, token: str | None
    ) -> dict[str, Any]:
        """Return one `/search/jql` page: `issues`, `isLast` and maybe `nextPageToken`."""
        with self._translate("search issues"):
            page = self._jira.enhanced_search_issues(
                jql,
                nextPageToken=token,
                maxResults=page_size,
                fields=list(fields),
                json_result=True,
            )
        assert isinstance(page, dict)
        return page

    def get_issue(self, issue_id: str, fields: list[str]) -> dict[str, Any]:
        with self._translate("read issue", issue_id):
            issue = self._jira.issue(issue_id, fields=",".join(fields))
        raw: dict[str, Any] = issue.raw
        return raw

    def create_request(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create a JSM customer request; the library's helper reads a string id as a name."""
        with self._translate("create request"):
            body: dict[str, Any] = self._send(
                "POST", "/rest/servicedeskapi/request", json=payload
            ).json()
        return body

    def edit_issue(self, issue_id: str, fields: dict[str, Any]) -> None:
        with self._translate("edit issue", issue_id):
            self._send("PUT", f"/rest/api/3/issue/{issue_id}", json={"fields": fields})

    def edit_screen(self, issue_id: str) -> dict[str, Any]:
        """Return the fields of the issue's edit screen by field id, from `GET .../editmeta`."""
        with self._translate("read edit screen", issue_id):
            body: dict[str, Any] = self._jira.editmeta(issue_id)
        fields = body.get("fields")
        return fields if isinstance(fields, dict) else {}

    def transitions(self, issue_id: str) -> list[dict[str, Any]]:
        with self._translate("list transitions", issue_id):
            listed: list[dict[str, Any]] = self._jira.transitions(
                issue_id, expand="transitions.fields"
            )
        return listed

    def transition(self, issue_id: str, transition_id: str, fields: dict[str, Any]) -> None:
        with self._translate("transition issue", issue_id):
            self._jira.transition_issue(issue_id, transition_id, fields=fields)

    def add_request_comment(self, issue_id: str, body: str, *, public: bool) -> dict[str, Any]:
        with self._translate("add comment", issue_id):
            created: dict[str, Any] = self._send(
                "POST",
                f"/rest/servicedeskapi/request/{issue_id}/comment",
                json={"body": body, "public": public},
            ).json()
        return created

    def update_comment(
        self, issue_id: str, comment_id: str, document: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace a comment's body (an ADF document); Jira keeps its visibility property."""
        with self._translate("update comment", issue_id):
            updated: dict[str, Any] = self._send(
                "PUT",
                f"/rest/api/3/issue/{issue_id}/comment/{comment_id}",
                json={"body": document},
            ).json()
        return updated

    def comments_page(self, issue_id: str, start_at: int, page_size: int) -> dict[str, Any]:
        with self._translate("list comments", issue_id):
            params = {"startAt": start_at, "maxResults": page_size, "orderBy": "created"}
            page: dict[str, Any] = self._send(
                "GET", f"/rest/api/3/issue/{issue_id}/comment", params=params
            ).json()
        return page

    def issue_attachments(self, issue_id: str) -> Any:
        """Return the issue's `attachment` field as Jira sent it, or None when it is absent."""
        with self._translate("list attachments", issue_id):
            issue: dict[str, Any] = self._send(
                "GET", f"/rest/api/3/issue/{issue_id}", params={"fields": "attachment"}
            ).json()
        fields = issue.get("fields")
        return fields.get("attachment") if isinstance(fields, dict) else None

    def add_attachment(
        self, issue_id: str, filename: str, content: bytes, content_type: str
    ) -> Any:
        """Upload one file as the multipart part `file` and return the JSON response.

        A body that is not JSON gives None, which the caller reads as an unconfirmed upload.

        The session sends `Content-Type: application/json` by default, so the multipart type
        is set here. Without `X-Atlassian-Token: no-check` Jira responds 403.
        """
        body, multipart_type = encode_multipart_formdata(
            {"file": (filename, content, content_type)}
        )
        headers = {"Content-Type": multipart_type, "X-Atlassian-Token": "no-check"}
        with self._translate("upload attachment", issue_id):
            response = self._send(
                "POST", f"/rest/api/3/issue/{issue_id}/attachments", data=body, headers=headers
            )
        try:
            return response.json()
        except ValueError:
            return None

    def attachment_content(self, attachment_id: str) -> bytes:
        """Download a file's bytes from the site itself.

        `redirect=false` makes Jira Cloud send the bytes, where it would otherwise redirect
        (303) to the Atlassian media host. A redirect that still comes is followed once, and
        only to the configured host, so the credentials never leave it.
        """
        operation = "download attachment"
        path = f"/rest/api/3/attachment/content/{attachment_id}"
        with self._translate(operation, attachment_id):
            response = self._send("GET", path, params={"redirect": "false"}, allow_redirects=False)
            if response.is_redirect:
                location = ensure_same_host(
                    response.headers["Location"],
                    self._settings.url,
                    connector=self.connector,
                    operation=operation,
                )
                response = self._session.request("GET", location, allow_redirects=False)
        if response.status_code != 200:
            msg = f"Jira sent HTTP {response.status_code} instead of the file's bytes"
            raise RetryableError(
                msg, connector=self.connector, operation=operation, record=attachment_id
            )
        return response.content

    def find_users(self, query: str) -> list[dict[str, Any]]:
        with self._translate("find user"):
            users = self._jira.search_users(query=query, maxResults=20)
        return [user.raw for user in users]
