"""The raw-call floor: the fewest API calls that sync one ServiceNow change to JSM.

For each signed notice it reads the incident's short description with pysnc (one GET) and
writes it to the linked issue's summary with the jira library (one PUT), from a pool of
worker threads, each with its own clients. It keeps no state, makes no read-back and
handles no echo, so it bounds what any sync daemon can do with the same libraries against
the same emulators. The bench runs it as a child process, as it runs the daemon:

    python -m bench.floor --port PORT --issues ISSUES.json --snow-url URL --jira-url URL

ISSUES.json maps incident sys_ids to JSM issue keys. Credentials and the webhook secret
come from the daemon's variables: TIERBRIDGE_SNOW_PASSWORD, TIERBRIDGE_JIRA_TOKEN and
TIERBRIDGE_SNOW_WEBHOOK_SECRET. The CA bundle comes from REQUESTS_CA_BUNDLE.

NOTE: events of one incident may run in parallel on two workers, so under load a slower
worker can write an older value last. The bench's changes never overlap that way.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import queue
import signal
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pysnc
from jira import JIRA

from tierbridge.emulators.servicenow.webhook import SIGNATURE_HEADER, sign

__all__ = ["main"]

_SNOW_USER = "svc.tierbridge"
_JIRA_USER = "svc.tierbridge@example.com"
_TIMEOUT_SECONDS = 30.0


class _Floor:
    """The queue between the receiver and the workers, and the work itself."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.secret = os.environ["TIERBRIDGE_SNOW_WEBHOOK_SECRET"]
        self.issues: dict[str, str] = json.loads(Path(args.issues).read_text(encoding="utf-8"))
        self.inbox: queue.Queue[str] = queue.Queue()
        self.failures = 0

    def depth(self) -> int:
        return self.inbox.unfinished_tasks

    def work(self) -> None:
        snow = pysnc.ServiceNowClient(
            self.args.snow_url,
            (_SNOW_USER, os.environ["TIERBRIDGE_SNOW_PASSWORD"]),
            auto_retry=False,
        )
        jira = JIRA(
            server=self.args.jira_url,
            basic_auth=(_JIRA_USER, os.environ["TIERBRIDGE_JIRA_TOKEN"]),
            options={"rest_api_version": "3"},
            max_retries=0,
            timeout=_TIMEOUT_SECONDS,
            get_server_info=False,
        )
        while True:
            sys_id = self.inbox.get()
            try:
                self._sync(snow, jira, sys_id)
            except Exception as exc:  # count and go on, as the bench reads the count
                self.failures += 1
                print(f"floor: sync of {sys_id} failed: {type(exc).__name__}", flush=True)
            finally:
                self.inbox.task_done()

    def _sync(self, snow: pysnc.ServiceNowClient, jira: JIRA, sys_id: str) -> None:
        record = snow.GlideRecord("incident")
        record.fields = ["short_description"]
        record.display_value = False
        if not record.get(sys_id):
            return
        key = self.issues.get(sys_id)
        if key is None:
            return
        summary = record.get_value("short_description")
        # The library's only issue edit (Issue.update) reloads the issue after its PUT, so
        # the PUT goes through the library's session, as the tierbridge connector does.
        url = f"{self.args.jira_url}/rest/api/3/issue/{key}"
        jira._session.put(url, json={"fields": {"summary": summary}})


def _handler(floor: _Floor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes; with Nagle on, the second one waits for the
        # client's delayed ACK, about 40 ms on Linux.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            expected = sign(floor.secret, body)
            if not hmac.compare_digest(self.headers.get(SIGNATURE_HEADER, ""), expected):
                self._reply(401, {"error": "invalid signature"})
                return
            floor.inbox.put(str(json.loads(body)["sys_id"]))
            self._reply(200, {"accepted": 1})

        def do_GET(self) -> None:
            self._reply(200, {"status": "ready", "queue_depth": floor.depth()})

        def _reply(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--issues", required=True, help="JSON file: sys_id -> JSM issue key")
    parser.add_argument("--snow-url", required=True, help="ServiceNow base URL")
    parser.add_argument("--jira-url", required=True, help="Jira base URL")
    parser.add_argument("--workers", type=int, default=4, help="worker threads (default 4)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve notices until SIGTERM."""
    floor = _Floor(_parse(argv))
    for index in range(floor.args.workers):
        threading.Thread(target=floor.work, name=f"floor-{index}", daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", floor.args.port), _handler(floor))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    print(f"floor: stopped, {floor.failures} failed syncs", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
