"""`tierbridge preview`: show the canonical ticket and every payload a sync would send, without writing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierbridge.core.commands._common import (
    add_config_argument,
    opened_runtime,
    run_reported,
)

if TYPE_CHECKING:
    from tierbridge.core.ops.preview import Payload, Preview

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "preview",
        help="show a ticket in canonical form and the payloads a sync would write, both ways; "
        "writes nothing",
    )
    add_config_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--ref", help="read this ticket live: CONNECTOR:ID, where ID is its id or a key seen before"
    )
    source.add_argument(
        "--file",
        type=Path,
        help='JSON file with a record\'s native fields, or {"id", "key", "fields": {...}}; '
        "nothing is read from the systems",
    )
    parser.add_argument("--connector", help="the connector whose native fields the --file contains")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_run, parser=parser)


def _run(args: argparse.Namespace) -> int:
    if args.file is not None and args.connector is None:
        args.parser.error("--file needs --connector NAME")
    if args.ref is not None and ":" not in args.ref:
        args.parser.error(f"--ref {args.ref!r} has no connector; use CONNECTOR:ID")
    return run_reported(lambda: _preview(args))


def _preview(args: argparse.Namespace) -> int:
    from tierbridge.core.config import load_config
    from tierbridge.core.ops.preview import native_record_from_json, preview_native, preview_record

    if args.file is not None:
        data = _read_json(args.file)
        preview = preview_native(
            load_config(args.config), args.connector, native_record_from_json(data)
        )
    else:
        connector, _, ticket = args.ref.partition(":")
        with opened_runtime(args.config) as runtime:
            preview = preview_record(runtime, connector, ticket)

    print(json.dumps(preview.as_json(), indent=2) if args.json else _as_text(preview))
    return 0 if all(payload.error is None for payload in preview.payloads) else 1


def _read_json(path: Path) -> dict[str, Any]:
    from tierbridge.core.errors import ConfigError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read ticket file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"ticket file {path} must hold a JSON object of native fields")
    return data


def _as_text(preview: Preview) -> str:
    lines = [f"ticket {preview.source} ({preview.tier or 'no tier'}), canonical:"]
    lines.extend(f"  {name}: {json.dumps(value)}" for name, value in preview.ticket.items())
    if not preview.payloads:
        lines.append("no payloads: the ticket is not linked and no higher tier is configured")
    for payload in preview.payloads:
        lines.extend(["", *_payload_lines(payload)])
    return "\n".join(lines)


def _payload_lines(payload: Payload) -> list[str]:
    head = (
        f"{payload.operation} {payload.source} -> {payload.target} ({payload.direction}), "
        f"fields: {', '.join(payload.fields) or '(none)'}"
    )
    if payload.error is not None:
        return [head, f"  error: {payload.error}"]
    lines = [head]
    lines.extend(f"  {name} = {json.dumps(value)}" for name, value in payload.native.items())
    if payload.differs is not None:
        changed = ", ".join(payload.differs) or "(none)"
        lines.append(f"  differs from the target's last sync: {changed}")
    if payload.truncated:
        lines.append(f"  cut to the field's max_length: {', '.join(payload.truncated)}")
    return lines
