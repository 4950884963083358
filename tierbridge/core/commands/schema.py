"""`tierbridge schema`: export the JSON Schema of config files and mapping files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "schema", help="export the JSON Schema of config and mapping files, for editors and CI"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="folder to write config.schema.json and mapping.schema.json into "
        "(default: print both as one JSON object keyed by file name)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from tierbridge.core.ops.schema import all_schemas, write_schemas

    if args.out is None:
        print(json.dumps(all_schemas(), indent=2, sort_keys=True))
        return 0
    for path in write_schemas(args.out):
        print(path)
    return 0
