"""All HTTP to one Jira Cloud site: the `jira` client, error translation and the calls we make.

The `jira.JIRA` client is built without its server-info probe, so construction makes no network
call. It is marked as Cloud instead, which makes `enhanced_search_issues` use `/search/jql`. The
library's own retries are off because `core.retry` owns retries.

Calls the library has no fitting method for (JSM request creation with a request-type id, JSM
comments, issue edits with a raw body, the comment page) go through the client's own session, so
they share its auth, headers and adapter.

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
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
import structlog
from jira import JIRA, JIRAError
from requests.adapters import HTTPAdapter

from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.core.connector_settings import BasicAuth
from tierbridge.core.errors import (
    AuthenticationError,
    ConfigError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.limits import CONNECTOR_SCOPE, Limiter, ensure_same_host, jira_signal

__all__ = ["JiraClient", "ensure_same_host", "path_template", "request_scope", "translate_errors"]

_log = structlog.get_logger(__name__)
_TEMPLATES = (
    (re.compile(r"/(issue|request)/[^/]+"), r"/\1/{issueIdOrKey}"),
    (re.compile(r"/comment/[^/]+"), "/comment/{commentId}"),
    (re.compile(r"/servicedesk/[^/]+"), "/servicedesk/{serviceDeskId}"),
)
_RETRYABLE_CLIENT_STATUSES = frozenset({408, 425})
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


def _error_detail(response: requests.Response | None) -> str:
    """Name the fields Jira complained about; values may hold ticket text, so they are left out."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    keys = sorted(errors) if isinstance(errors, dict) else []
    messages = body.get("errorMessages")
    count = len(messages) if isinstance(messages, list) else int(bool(body.get("errorMessage")))
    parts = []
    if keys:
        parts.append(f"fields with errors: {', '.join(keys)}")
    if count:
        parts.append(f"{count} general error message{'s' if count != 1 else ''}")
    return "; ".join(parts)


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _raise_for_status(
    status: int | None, response: requests.Response | None, where: dict[str, Any]
) -> NoReturn:
    """Raise the tierbridge error that matches a failed Jira response."""
    detail = _error_detail(response)
    if status is None:
        raise RetryableError("Jira sent no usable response", **where)
    if status == 401:
        msg = "Jira rejected the credentials; check auth.username and the API token"
        raise AuthenticationError(msg, status=status, **where)
    if status == 403:
        msg = "the integration account lacks permission for this call; check its project roles"
        raise AuthenticationError(msg, status=status, **where)
    if status == 404:
        raise NotFoundError(
            "not found, or not visible to the integration account", status=status, **where
        )
    if status == 429:
        retry_after = _retry_after(response)
        raise ThrottledError(
            f"rate limited; retry after {retry_after} s",
            retry_after=retry_after,
            status=status,
            **where,
        )
    if status >= 500 or status in _RETRYABLE_CLIENT_STATUSES:
        raise RetryableError(
            f"Jira returned a server error; {detail or 'no detail given'}", status=status, **where
        )
    raise RejectedError(
        f"Jira rejected the request; {detail or 'no detail given'}", status=status, **where
    )


def _certificate_rejected(exc: BaseException) -> bool:
    """Tell a rejected certificate (permanent until the config changes) from a broken handshake.

    requests nests the `ssl.SSLCertVerificationError` in urllib3 errors' `args` and `reason`.
    """
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError):
            return True
        if isinstance(item, BaseException):
            pending.extend([*item.args, item.__cause__, item.__context__])
            pending.append(getattr(item, "reason", None))
    return False


@contextmanager
def translate_errors(connector: str, operation: str, record: str | None = None) -> Iterator[None]:
    """Turn `jira` and `requests` exceptions raised inside into `core.errors` classes."""
    where: dict[str, Any] = {"connector": connector, "operation": operation, "record": record}
    try:
        yield
    except JIRAError as exc:
        _raise_for_status(exc.status_code, exc.response, where)
    except requests.HTTPError as exc:
        response = exc.response
        _raise_for_status(response.status_code if response is not None else None, response, where)
    except requests.Timeout as exc:
        raise RetryableError("request to Jira timed out; check timeout_seconds", **where) from exc
    except requests.exceptions.SSLError as exc:
        if _certificate_rejected(exc):
            msg = "TLS verification failed; check base_url, and that ca_bundle holds the site's CA"
            raise PermanentError(msg, **where) from exc
        raise RetryableError(
            "TLS handshake with Jira failed; check base_url and ca_bundle", **where
        ) from exc
    except requests.RequestException as exc:
        raise RetryableError(f"cannot reach Jira ({type(exc).__name__})", **where) from exc


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

    def find_users(self, query: str) -> list[dict[str, Any]]:
        with self._translate("find user"):
            users = self._jira.search_users(query=query, maxResults=20)
        return [user.raw for user in users]
