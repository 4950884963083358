"""The daemon's config file: typed sections, connectors, tiers and their mapping files.

`load_config` validates every section and every connector on its own, then checks the parts
against one another (tiers name connectors, mapping files exist and fit their connector),
and raises one ConfigError that lists every problem found, each with its file:line:column.
Mapping files report their problems at their own lines.

Relative paths (mapping files, CA bundles, secret files and a relative SQLite database) are
resolved against the config file's folder, so the daemon works from any working directory.
Secrets stay references (`{env: NAME}` or `{file: PATH}`) and are read only when used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    field_validator,
)

from tierbridge.connectors.registry import SETTINGS_MODELS
from tierbridge.core.connector_settings import ConnectorSettings
from tierbridge.core.errors import ConfigError, ConfigIssue
from tierbridge.core.mapping import MappingSpec, load_mapping
from tierbridge.core.model import Priority, Tier
from tierbridge.core.retry import EVENT_BACKOFF_BASE_SECONDS, EVENT_BACKOFF_CAP_SECONDS
from tierbridge.core.rules.checks import check_rules_and_sla
from tierbridge.core.rules.models import RuleList
from tierbridge.core.runners.settings import RUNNERS, ProcrastinateSettings
from tierbridge.core.secrets import SecretRef
from tierbridge.core.sla.settings import Calendars, SlaSettings
from tierbridge.core.sync_settings import SyncSettings
from tierbridge.core.yamlfile import (
    Locator,
    issues_from_validation_error,
    load_yaml,
    unknown_key_message,
)

__all__ = [
    "AppConfig",
    "EscalationRule",
    "EscalationSettings",
    "LoggingSettings",
    "QueueSettings",
    "ServerSettings",
    "StoreSettings",
    "TierSettings",
    "load_config",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DATABASE = Path("var/tierbridge.db")
CONNECTOR_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoreSettings(_Frozen):
    """Location of the state store, as an SQLAlchemy URL."""

    url: str

    @field_validator("url")
    @classmethod
    def _supported_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in _STORE_SCHEMES:
            msg = "store url must start with sqlite:/// or postgresql+psycopg:// (or postgresql://)"
            raise ValueError(msg)
        if parts.password:
            msg = "store url must not contain a password; set PGPASSWORD or use a ~/.pgpass file"
            raise ValueError(msg)
        return value


class ServerSettings(_Frozen):
    """The HTTP listener for webhooks, health and metrics. Port 0 picks a free port."""

    host: str = Field(default=DEFAULT_HOST, min_length=1)
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    #: Bearer token of the read-only status page at /status; without one the page is off.
    status_token: SecretRef | None = None


class LoggingSettings(_Frozen):
    level: Literal["debug", "info", "warning", "error"] = "info"


class TierSettings(_Frozen):
    """The connector that serves a tier, and the team's assignment group there."""

    connector: str = Field(min_length=1)
    group: str | None = None


class EscalationRule(_Frozen):
    """Escalation rule for L1 tickets: a listed priority or a listed group escalates."""

    priorities: tuple[Priority, ...] = ()
    assignment_groups: tuple[Annotated[str, Field(min_length=1)], ...] = ()


class EscalationSettings(_Frozen):
    to_L2: EscalationRule = EscalationRule()


class QueueSettings(_Frozen):
    """Leases and retries of inbox events.

    After a failed attempt n, an event waits a random time up to
    `backoff_base_seconds` * 2^(n-1), capped at `backoff_cap_seconds`. When attempt
    `max_attempts` fails, the event is parked as dead. With the defaults the 23 waits add up
    to about 2 hours on average and 4.1 hours at most (computed from the formula), so a
    target system down for a morning delays its events instead of dead-lettering them.
    """

    #: How long a claimed event stays reserved for its worker. An event whose worker died
    #: (a crash, SIGKILL) runs again only after its lease expires, and so do the later
    #: events of its ticket. Keep it above the longest time one event can take.
    lease_seconds: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=24, ge=1)
    backoff_base_seconds: float = Field(default=EVENT_BACKOFF_BASE_SECONDS, gt=0)
    backoff_cap_seconds: float = Field(default=EVENT_BACKOFF_CAP_SECONDS, gt=0)


class AppConfig(_Frozen):
    """The whole validated config. Its repr shows secret references, never secret values."""

    store: StoreSettings
    server: ServerSettings = ServerSettings()
    #: Each entry is an instance of its system's settings class (`SETTINGS_MODELS`).
    connectors: dict[str, SerializeAsAny[ConnectorSettings]]
    tiers: dict[Tier, TierSettings]
    escalation: EscalationSettings = EscalationSettings()
    sync: SyncSettings = SyncSettings()
    queue: QueueSettings = QueueSettings()
    logging: LoggingSettings = LoggingSettings()
    #: Business calendars by name, the SLA targets per tier, and the ordered escalation rules.
    calendars: Calendars = Calendars()
    sla: SlaSettings = SlaSettings()
    rules: RuleList = RuleList()
    #: What runs the units of work: `embedded` (one process) or `procrastinate` (PostgreSQL jobs).
    runner: Literal["embedded", "procrastinate"] = "embedded"
    procrastinate: ProcrastinateSettings = ProcrastinateSettings()
    #: The config file of each client this daemon serves, by tenant name. Each file contains
    #: its tenant's connectors, tiers and rules (`tierbridge.core.tenants`). This config then
    #: contains every tenant's connectors and no tiers of its own.
    tenants: dict[str, Path] = Field(default_factory=dict)

    _mappings: dict[str, MappingSpec] = PrivateAttr(default_factory=dict)
    _tenant_configs: dict[str, AppConfig] = PrivateAttr(default_factory=dict)

    @field_validator("connectors", mode="before")
    @classmethod
    def _system_models(cls, value: Any) -> Any:
        """Validate plain connector entries by their system's model, for configs built in code."""
        if not isinstance(value, dict):
            return value
        return {name: _as_system_settings(entry) for name, entry in value.items()}

    def connector(self, name: str) -> ConnectorSettings:
        """Return the settings of connector `name`. Raise ConfigError if it is not configured."""
        if name not in self.connectors:
            raise ConfigError(_unknown_connector(name, self.connectors))
        return self.connectors[name]

    def mapping_for(self, name: str) -> MappingSpec:
        """Return the loaded mapping of connector `name`. Raise ConfigError if there is none."""
        if name not in self._mappings:
            raise ConfigError(_unknown_connector(name, self._mappings))
        return self._mappings[name]

    def tenant_configs(self) -> dict[str, AppConfig]:
        """Return each tenant's own config by tenant name; empty without `tenants:`."""
        return dict(self._tenant_configs)

    def with_tenant_configs(self, configs: Mapping[str, AppConfig]) -> AppConfig:
        """Return a copy that serves the tenants' own `configs`."""
        copy = self.model_copy()
        copy._tenant_configs = dict(configs)
        return copy

    def with_mappings(self, mappings: Mapping[str, MappingSpec]) -> AppConfig:
        """Return a copy that serves `mappings`, for configs built in code rather than loaded."""
        copy = self.model_copy()
        copy._mappings = dict(mappings)
        return copy


def _as_system_settings(entry: Any) -> Any:
    model = SETTINGS_MODELS.get(str(entry.get("system"))) if isinstance(entry, dict) else None
    return entry if model is None else model.model_validate(entry)


def _unknown_connector(name: str, known: Mapping[str, object]) -> str:
    return (
        f"connector {name!r} is not configured; configured: {', '.join(sorted(known)) or '(none)'}"
    )


#: Top-level sections validated as plain models. Connectors and tiers have their own steps.
_SECTIONS: dict[str, type[BaseModel]] = {
    "store": StoreSettings,
    "server": ServerSettings,
    "escalation": EscalationSettings,
    "sync": SyncSettings,
    "queue": QueueSettings,
    "logging": LoggingSettings,
    "calendars": Calendars,
    "sla": SlaSettings,
    "rules": RuleList,
    "procrastinate": ProcrastinateSettings,
}
_REQUIRED = ("connectors", "tiers")
#: Connector settings that name a native field, and the canonical field the mapping maps to it.
_FIELD_SETTINGS = (("correlation_field", "correlation_id"), ("category_field", "category"))
_TOP_LEVEL_KEYS = (*_SECTIONS, *_REQUIRED, "runner", "tenants")


def load_config(path: Path | str) -> AppConfig:
    """Load the config file and every mapping it names. Raise ConfigError listing all problems."""
    path = Path(path)
    data, locator = load_yaml(path)
    loader = _Loader(path, locator)
    config = loader.load(data)
    if loader.issues or config is None:
        raise ConfigError(sorted(loader.issues, key=loader.sort_key))
    return config


class _Loader:
    """Collects the issues of one config file and the mapping files it names."""

    def __init__(self, path: Path, locator: Locator) -> None:
        self.path = path
        self.base = path.absolute().parent
        self.locator = locator
        self.issues: list[ConfigIssue] = []

    def sort_key(self, issue: ConfigIssue) -> tuple[bool, str, int, int]:
        return (issue.file != self.locator.file, issue.file, issue.line, issue.column)

    def load(self, data: Any) -> AppConfig | None:
        if not isinstance(data, dict):
            self.issues.append(
                self.locator.issue((), _not_a_mapping(data, sorted(_TOP_LEVEL_KEYS)))
            )
            return None

        self._check_top_level_keys(data)
        if "tenants" in data:
            return self._load_tenants(data)
        sections = self._sections(data)
        connectors = self._connectors(data.get("connectors"))
        tiers = self._tiers(data.get("tiers"), data.get("connectors"))
        mappings = self._mappings(connectors)
        runner = self._runner(data, sections)
        self.issues.extend(check_rules_and_sla(sections, tiers, self.locator))
        if self.issues:
            return None

        sections.setdefault("store", StoreSettings(url=_sqlite_url(self.base / DEFAULT_DATABASE)))
        config = AppConfig.model_validate(
            {**sections, "connectors": connectors, "tiers": tiers, "runner": runner}
        )
        return config.with_mappings(mappings)

    # -- sections -----------------------------------------------------------------------

    def _check_top_level_keys(self, data: dict[str, Any]) -> None:
        allowed = sorted(_TOP_LEVEL_KEYS)
        for key in data:
            if key not in allowed:
                msg = unknown_key_message(str(key), allowed)
                self.issues.append(self.locator.issue((key,), msg, at_key=True))
        for key in _REQUIRED:
            if key not in data and "tenants" not in data:
                self.issues.append(self.locator.issue((key,), f"missing required key {key!r}"))

    def _load_tenants(self, data: dict[str, Any]) -> AppConfig | None:
        """Load a daemon file that lists tenants, each with its own config file."""
        from tierbridge.core.tenants import TENANT_SECTIONS, combine_tenants, load_tenant_configs

        for key in TENANT_SECTIONS:
            if key in data:
                msg = f"with tenants, {key} belongs in each tenant's file, not in the daemon's"
                self.issues.append(self.locator.issue((key,), msg, at_key=True))
        if data.get("runner", "embedded") != "embedded":
            # TODO: run tenants on procrastinate workers; their jobs carry no tenant yet.
            msg = "tenants run on the embedded runner only; remove runner or set it to embedded"
            self.issues.append(self.locator.issue(("runner",), msg))
        sections = self._sections(data)
        sections.setdefault("store", StoreSettings(url=_sqlite_url(self.base / DEFAULT_DATABASE)))
        loaded, issues = load_tenant_configs(data["tenants"], self.base, self.locator, sections)
        self.issues.extend(issues)
        return None if self.issues else combine_tenants(sections, loaded)

    def _sections(self, data: dict[str, Any]) -> dict[str, Any]:
        sections: dict[str, Any] = {}
        for name, model in _SECTIONS.items():
            if name not in data:
                continue
            raw = {} if data[name] is None else data[name]
            try:
                sections[name] = model.model_validate(raw)
            except ValidationError as exc:
                self._add_validation(exc, (name,), model)
        if "store" in sections:
            sections["store"] = StoreSettings(url=_resolve_sqlite(sections["store"].url, self.base))
        return sections

    def _runner(self, data: dict[str, Any], sections: dict[str, Any]) -> str:
        """Check the `runner` key; procrastinate keeps its jobs in the PostgreSQL store."""
        runner = data.get("runner", "embedded")
        if runner not in RUNNERS:
            msg = f"runner must be one of {', '.join(RUNNERS)}, not {runner!r}"
            self.issues.append(self.locator.issue(("runner",), msg))
            return "embedded"
        if runner == "procrastinate" and "store" in data and "store" not in sections:
            return str(runner)  # the store's own issue is reported already
        store = sections.get("store")
        if runner == "procrastinate" and (store is None or not store.url.startswith("postgresql")):
            msg = (
                "runner procrastinate needs a PostgreSQL store, which stores its jobs too: "
                "set store.url to postgresql+psycopg://user@host/database"
            )
            self.issues.append(self.locator.issue(("runner",), msg))
        return str(runner)

    def _add_validation(self, exc: ValidationError, prefix: tuple[str, ...], model: Any) -> None:
        self.issues.extend(
            issues_from_validation_error(
                exc, self.locator.file, self.locator, prefix=prefix, model=model
            )
        )

    # -- connectors ---------------------------------------------------------------------

    def _connectors(self, raw: Any) -> dict[str, ConnectorSettings]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.issues.append(self.locator.issue(("connectors",), _not_a_mapping(raw, ["<name>"])))
            return {}
        connectors: dict[str, ConnectorSettings] = {}
        for name, entry in raw.items():
            settings = self._connector(str(name), entry)
            if settings is not None:
                connectors[str(name)] = settings
        return connectors

    def _connector(self, name: str, entry: Any) -> ConnectorSettings | None:
        loc = ("connectors", name)
        if not CONNECTOR_NAME.fullmatch(name):
            msg = f"invalid connector name {name!r}; use lower-case letters, digits, '-' and '_'"
            self.issues.append(self.locator.issue(loc, msg, at_key=True))
        if not isinstance(entry, dict):
            self.issues.append(
                self.locator.issue(loc, _not_a_mapping(entry, ["system", "base_url"]))
            )
            return None

        systems = ", ".join(sorted(SETTINGS_MODELS))
        system = entry.get("system")
        if system is None:
            self.issues.append(
                self.locator.issue(loc, f"missing required key 'system'; allowed: {systems}")
            )
            return None
        model = SETTINGS_MODELS.get(str(system))
        if model is None:
            msg = f"unknown system {system!r}; allowed: {systems}"
            self.issues.append(self.locator.issue((*loc, "system"), msg))
            return None

        try:
            settings = model.model_validate(entry)
        except ValidationError as exc:
            self._add_validation(exc, loc, model)
            return None
        return self._checked_files(name, _resolve_paths(settings, self.base))

    def _checked_files(self, name: str, settings: ConnectorSettings) -> ConnectorSettings | None:
        bundle = settings.ca_bundle
        if bundle is not None and not bundle.is_file():
            msg = f"CA bundle {bundle} not found; give the path of a PEM file"
            self.issues.append(self.locator.issue(("connectors", name, "ca_bundle"), msg))
            return None
        return settings

    # -- cross-checks -------------------------------------------------------------------

    def _tiers(self, raw: Any, raw_connectors: Any) -> dict[Tier, TierSettings]:
        """Validate each tier on its own, then check that it names a configured connector."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.issues.append(
                self.locator.issue(("tiers",), _not_a_mapping(raw, ["L1", "L2", "L3"]))
            )
            return {}

        tiers: dict[Tier, TierSettings] = {}
        for key, entry in raw.items():
            try:
                tier = Tier(str(key))
            except ValueError:
                msg = f"invalid tier {key!r}; allowed: {', '.join(t.value for t in Tier)}"
                self.issues.append(self.locator.issue(("tiers", key), msg, at_key=True))
                continue
            try:
                tiers[tier] = TierSettings.model_validate(entry)
            except ValidationError as exc:
                self._add_validation(exc, ("tiers", key), TierSettings)

        for tier in (Tier.L1, Tier.L2):
            if tier.value not in {str(key) for key in raw}:
                self.issues.append(
                    self.locator.issue(("tiers", tier.value), f"missing tier {tier.value}")
                )
        names = sorted(str(n) for n in raw_connectors) if isinstance(raw_connectors, dict) else []
        self._check_tier_connectors(tiers, names)
        return tiers

    def _check_tier_connectors(self, tiers: dict[Tier, TierSettings], names: list[str]) -> None:
        served: dict[str, Tier] = {}
        for tier, settings in tiers.items():
            loc = ("tiers", tier.value, "connector")
            if settings.connector not in names:
                configured = ", ".join(names) or "(none)"
                msg = f"unknown connector {settings.connector!r}; configured: {configured}"
                self.issues.append(self.locator.issue(loc, msg))
            elif settings.connector in served:
                msg = (
                    f"connector {settings.connector!r} already serves {served[settings.connector]}"
                )
                self.issues.append(
                    self.locator.issue(loc, msg + "; give each tier its own connector")
                )
            served.setdefault(settings.connector, tier)

    def _mappings(self, connectors: dict[str, ConnectorSettings]) -> dict[str, MappingSpec]:
        loaded: dict[Path, MappingSpec | None] = {}
        mappings: dict[str, MappingSpec] = {}
        for name, settings in connectors.items():
            loc = ("connectors", name, "mapping")
            if not settings.mapping.is_file():
                msg = (
                    f"mapping file {settings.mapping} not found; "
                    f"fix the path (relative paths start at {self.base})"
                )
                self.issues.append(self.locator.issue(loc, msg))
                continue
            if settings.mapping not in loaded:
                loaded[settings.mapping] = self._load_mapping(settings.mapping)
            spec = loaded[settings.mapping]
            if spec is not None and self._fits(name, settings, spec):
                mappings[name] = spec
        return mappings

    def _load_mapping(self, path: Path) -> MappingSpec | None:
        try:
            return load_mapping(path)
        except ConfigError as exc:
            self.issues.extend(exc.issues or [ConfigIssue(str(path), 1, 1, "", str(exc))])
            return None

    def _fits(self, name: str, settings: ConnectorSettings, spec: MappingSpec) -> bool:
        loc = ("connectors", name, "mapping")
        if spec.system != settings.system:
            msg = (
                f"mapping file {settings.mapping} is for system {spec.system!r}, "
                f"not {settings.system!r}"
            )
            self.issues.append(
                self.locator.issue(loc, msg + "; point to a mapping for this system")
            )
            return False

        fits = True
        for setting, canonical in _FIELD_SETTINGS:
            field = getattr(settings, setting, None)
            mapped = spec.fields.get(canonical)
            if field is not None and mapped is not None and field != mapped:
                msg = (
                    f"the mapping stores {canonical} in {mapped!r} but {setting} "
                    f"is {field!r}; make them match"
                )
                self.issues.append(self.locator.issue(loc, msg))
                fits = False
        return fits


# -- paths ------------------------------------------------------------------------------


def _resolve(base: Path, value: Path) -> Path:
    return Path(os.path.normpath(base / value.expanduser()))


def _resolve_paths(model: BaseModel, base: Path) -> Any:
    """Return a copy of `model` whose relative Path fields, at any depth, start at `base`."""
    changes: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Path):
            changes[name] = _resolve(base, value)
        elif isinstance(value, BaseModel):
            changes[name] = _resolve_paths(value, base)
    return model.model_copy(update=changes) if changes else model


def _sqlite_url(database: Path) -> str:
    return f"sqlite:///{database}"


def _resolve_sqlite(url: str, base: Path) -> str:
    """Anchor a relative SQLite path at the config's folder. Other URLs stay as given."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    database = url.removeprefix(prefix)
    if not database or database.startswith((":memory:", "/")) or database.startswith("file:"):
        return url
    return _sqlite_url(_resolve(base, Path(database)))


def _not_a_mapping(value: Any, keys: list[str]) -> str:
    found = "nothing" if value is None else f"a {type(value).__name__}"
    return f"expected a mapping with keys such as {', '.join(keys)}; found {found}"
