"""Tests of the JSON Schema export: the shipped files validate, and the schema files are current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from tierbridge.core.ops.schema import (
    CONFIG_SCHEMA_FILE,
    MAPPING_SCHEMA_FILE,
    all_schemas,
    render,
    write_schemas,
)

ROOT = Path(__file__).resolve().parents[3]
SCHEMA_DIR = ROOT / "schema"
CONFIGS = sorted((ROOT / "config").glob("*.yaml"))
MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))


def as_json(path: Path) -> Any:
    """Read YAML as an editor's schema check reads it, as JSON, so mapping keys are strings."""
    return json.loads(json.dumps(YAML(typ="safe").load(path.read_text(encoding="utf-8"))))


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def messages(validator: Draft202012Validator, data: Any) -> list[str]:
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(data)
    ]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda path: path.name)
def test_shipped_config_validates(path: Path) -> None:
    """Every shipped config file is valid under the config schema."""
    assert messages(validator(CONFIG_SCHEMA_FILE), as_json(path)) == []


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda path: path.name)
def test_shipped_mapping_validates(path: Path) -> None:
    """Every shipped mapping file is valid under the mapping schema."""
    assert messages(validator(MAPPING_SCHEMA_FILE), as_json(path)) == []


@pytest.mark.parametrize(
    ("path", "schema"),
    [*((p, CONFIG_SCHEMA_FILE) for p in CONFIGS), *((p, MAPPING_SCHEMA_FILE) for p in MAPPINGS)],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_shipped_file_names_schema(path: Path, schema: str) -> None:
    """Each shipped YAML file names its schema on its first line, for editors."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=../schema/{schema}"


@pytest.mark.parametrize("name", [CONFIG_SCHEMA_FILE, MAPPING_SCHEMA_FILE])
def test_schema_files_are_current(name: str) -> None:
    """The files in schema/ match the models; run `make schema` after changing a model."""
    shipped = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert shipped == render(all_schemas()[name])


def test_connector_keys_of_each_system() -> None:
    """A connector entry is checked by its system's keys: `table` is valid only for servicenow."""
    check = validator(CONFIG_SCHEMA_FILE)
    config = as_json(ROOT / "config" / "demo.yaml")
    config["connectors"]["jsm"]["table"] = "incident"
    config["connectors"]["snow"]["table"] = "incident"

    errors = messages(check, config)

    assert len(errors) == 1
    assert "jsm" in errors[0]


def test_unknown_section_rejected() -> None:
    """A misspelt top-level key fails the config schema."""
    config = as_json(ROOT / "config" / "demo.yaml")
    config["logigng"] = {"level": "info"}

    assert messages(validator(CONFIG_SCHEMA_FILE), config) != []


def test_config_without_store_validates() -> None:
    """The store key may be left out, as the loader then uses SQLite next to the config."""
    config = as_json(ROOT / "config" / "demo.yaml")
    del config["store"]

    assert messages(validator(CONFIG_SCHEMA_FILE), config) == []


def test_wrong_mapping_value_rejected() -> None:
    """A status value outside the canonical set fails the mapping schema."""
    mapping = as_json(ROOT / "mappings" / "jira.yaml")
    mapping["values"]["status"]["inbound"]["Resolved"] = "done"

    errors = messages(validator(MAPPING_SCHEMA_FILE), mapping)

    assert len(errors) == 1
    assert errors[0].startswith("['values', 'status']: ")


def test_write_schemas_creates_folder(tmp_path: Path) -> None:
    """write_schemas creates the folder and writes both files."""
    written = write_schemas(tmp_path / "out")

    assert sorted(path.name for path in written) == [CONFIG_SCHEMA_FILE, MAPPING_SCHEMA_FILE]
    assert all(json.loads(path.read_text(encoding="utf-8"))["$schema"] for path in written)
