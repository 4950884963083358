"""JSON Schema of the config file and of mapping files, for editors and CI checks.

The schemas come from the pydantic models the loader validates with, so they cannot drift
from it. They check shape and types only; the loader's cross-checks (tiers name configured
connectors, mapping files exist and fit their connector) still need `tierbridge validate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, Field, create_model

from tierbridge.connectors.registry import SETTINGS_MODELS
from tierbridge.core.config import AppConfig, StoreSettings
from tierbridge.core.mapping import MappingSpec

__all__ = ["CONFIG_SCHEMA_FILE", "MAPPING_SCHEMA_FILE", "all_schemas", "write_schemas"]

CONFIG_SCHEMA_FILE = "config.schema.json"
MAPPING_SCHEMA_FILE = "mapping.schema.json"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _config_model() -> type[BaseModel]:
    """Return AppConfig with each connector typed as the union of the systems' settings.

    AppConfig types connectors by their base class and picks the system's model in a
    validator, which a schema cannot show, so the union is spelled out here.
    """
    models = tuple(SETTINGS_MODELS[name] for name in sorted(SETTINGS_MODELS))
    connector = Annotated[Union[models], Field(discriminator="system")]  # type: ignore[valid-type]  # noqa: UP007
    model: type[BaseModel] = create_model(
        "TierbridgeConfig",
        __base__=AppConfig,
        __doc__="The tierbridge config file (`tierbridge run --config FILE`).",
        connectors=(dict[str, connector], ...),
        # The loader fills in a SQLite store next to the config file when the key is absent.
        store=(StoreSettings, Field(default=None)),
    )
    return model


def _with_dialect(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": _DIALECT, "title": title, **schema}


def all_schemas() -> dict[str, dict[str, Any]]:
    """Return the config and mapping schemas by file name."""
    config = _config_model().model_json_schema(mode="validation")
    mapping = MappingSpec.model_json_schema(mode="validation")
    return {
        CONFIG_SCHEMA_FILE: _with_dialect(config, "tierbridge config"),
        MAPPING_SCHEMA_FILE: _with_dialect(mapping, "tierbridge field mapping"),
    }


def render(schema: dict[str, Any]) -> str:
    """Serialize a schema as the files in `schema/` hold it: sorted keys, two-space indent."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write both schema files into `folder`, creating it; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = folder / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
