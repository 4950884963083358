"""Several clients (tenants) on one daemon, each with its own config file.

An MSP onboards a client by adding one file, and the daemon's own file lists the clients:

```yaml
# daemon.yaml: what the tenants share
store: {url: postgresql+psycopg://tierbridge@db.internal/tierbridge}
server: {port: 8080}
tenants:
  acme: clients/acme.yaml        # relative paths start at this file's folder
  globex: clients/globex.yaml
```

A tenant's file is an ordinary config (connectors, tiers, escalation, rules, SLA, sync,
with their mappings and secret references) without the shared sections. `store`,
`server`, `queue`, `logging`, `runner` and `procrastinate` come from the daemon's file, and
a tenant's file that sets one is rejected. So each client keeps its own connectors, mappings, secrets, rules and
rate limits (`rate_limit` per connector), `tierbridge validate --config clients/acme.yaml`
checks one client, and a client's file can move to a daemon of its own unchanged.

Connector names must differ across tenants: the store keys every ticket, cursor and event
by connector, so the tenant of each row is the tenant whose file names the connector. No
tenant column is stored. The runner runs each tenant's workers and polls on their own
threads, so one tenant's outage or throttling never holds up another's events. Worker and
poll log lines carry `tenant`, and `tierbridge_connector_info` maps connectors to tenants
in the metrics.

NOTE: the `log`, `status` and `report` commands and the intake's log lines name connectors,
not tenants; `tenant_of` maps one to the other. The JSON schema in `schema/` still requires
`connectors` and `tiers`, so an editor flags a daemon file with tenants that
`tierbridge validate` accepts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import Gauge

from tierbridge.core.errors import ConfigError, ConfigIssue
from tierbridge.core.yamlfile import Locator, load_yaml

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig
    from tierbridge.core.metrics import Metrics
    from tierbridge.core.runtime import Runtime

__all__ = [
    "SHARED_SECTIONS",
    "TENANT_SECTIONS",
    "combine_tenants",
    "export_tenant_info",
    "load_tenant_configs",
    "tenant_of",
    "tenant_runtime",
]

#: Top-level keys that only the daemon's file sets; they apply to every tenant.
SHARED_SECTIONS = ("store", "server", "queue", "logging", "runner", "procrastinate")
#: Top-level keys that only a tenant's file sets, next to `tenants:` they are rejected.
TENANT_SECTIONS = ("connectors", "tiers", "escalation", "rules", "sla", "calendars", "sync")
_TENANT_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def load_tenant_configs(
    raw: Any, base: Path, locator: Locator, shared: Mapping[str, Any]
) -> tuple[dict[str, tuple[Path, AppConfig]], list[ConfigIssue]]:
    """Load each tenant's file named under `tenants:`; return (file, config) by tenant name,
    and every problem found.

    `base` is the daemon file's folder, `locator` points into it, and `shared` contains its
    validated shared sections, which replace the tenants' defaults.
    """
    from tierbridge.core.config import load_config

    if not isinstance(raw, dict) or not raw:
        found = "nothing" if not raw else f"a {type(raw).__name__}"
        msg = f"tenants must map each tenant's name to its config file; found {found}"
        return {}, [locator.issue(("tenants",), msg)]

    configs: dict[str, tuple[Path, AppConfig]] = {}
    issues: list[ConfigIssue] = []
    for name, value in raw.items():
        where = ("tenants", name)
        if not _TENANT_NAME.fullmatch(str(name)):
            msg = f"invalid tenant name {name!r}; use lower-case letters, digits, '-' and '_'"
            issues.append(locator.issue(where, msg, at_key=True))
            continue
        if not isinstance(value, str) or not value:
            msg = f"tenant {name} needs the path of its config file, such as clients/{name}.yaml"
            issues.append(locator.issue(where, msg))
            continue
        path = base / Path(value).expanduser()
        try:
            shared_keys = _shared_keys_in(path)
            config = load_config(path)
        except ConfigError as exc:
            issues.extend(exc.issues or [locator.issue(where, str(exc))])
            continue
        if shared_keys:
            issues.extend(shared_keys)
            continue
        configs[str(name)] = (path, config.model_copy(update=dict(shared)))
    issues.extend(_duplicate_connectors({n: c for n, (_, c) in configs.items()}, locator))
    return configs, issues


def _shared_keys_in(path: Path) -> list[ConfigIssue]:
    """Return an issue for each shared section, or nested `tenants:`, in a tenant's file."""
    data, locator = load_yaml(path)
    if not isinstance(data, dict):
        return []
    issues = [
        locator.issue(
            (key,), f"{key} is shared by all tenants; set it in the daemon's file", at_key=True
        )
        for key in SHARED_SECTIONS
        if key in data
    ]
    if "tenants" in data:
        msg = "a tenant's file cannot list tenants; list them in the daemon's file"
        issues.append(locator.issue(("tenants",), msg, at_key=True))
    return issues


def _duplicate_connectors(configs: Mapping[str, AppConfig], locator: Locator) -> list[ConfigIssue]:
    counts = Counter(name for config in configs.values() for name in config.connectors)
    issues = []
    for connector, count in sorted(counts.items()):
        if count < 2:
            continue
        owners = sorted(t for t, config in configs.items() if connector in config.connectors)
        msg = (
            f"connector {connector!r} is configured by tenants {', '.join(owners)}; the store "
            "keys tickets by connector name, so give each tenant's connectors their own names"
        )
        issues.append(locator.issue(("tenants", owners[-1]), msg))
    return issues


def combine_tenants(
    shared: Mapping[str, Any], loaded: Mapping[str, tuple[Path, AppConfig]]
) -> AppConfig:
    """Return the daemon's config: the shared sections, every tenant's connectors and no tiers.

    Intake, status views and store commands find any connector in it; the engine runs each
    event with its tenant's own config (`tenant_runtime`).
    """
    from tierbridge.core.config import AppConfig

    tenants = {name: config for name, (_, config) in loaded.items()}
    connectors = {name: s for config in tenants.values() for name, s in config.connectors.items()}
    mappings = {name: c.mapping_for(name) for c in tenants.values() for name in c.connectors}
    files = {name: path for name, (path, _) in loaded.items()}
    combined = AppConfig.model_validate(
        {**shared, "connectors": connectors, "tiers": {}, "tenants": files}
    )
    return combined.with_mappings(mappings).with_tenant_configs(tenants)


def tenant_of(config: AppConfig, connector: str) -> str | None:
    """Return the tenant whose file names `connector`, or None without tenants."""
    for name, tenant in config.tenant_configs().items():
        if connector in tenant.connectors:
            return name
    return None


def tenant_runtime(rt: Runtime, tenant: str) -> Runtime:
    """Return a view of `rt` for one tenant: its config, connectors and mappers, one store.

    The tenant's connector settings are taken from `rt.config`, which may have been changed
    after loading (the demo points them at emulators). The view owns nothing: close `rt`.
    """
    from tierbridge.core.runtime import Runtime

    own = rt.config.tenant_configs()[tenant]
    names = set(own.connectors)
    config = own.model_copy(
        update={
            "connectors": {name: rt.config.connectors[name] for name in own.connectors},
            **{section: getattr(rt.config, section) for section in SHARED_SECTIONS},
        }
    )
    return Runtime(
        config=config,
        store=rt.store,
        connectors={name: c for name, c in rt.connectors.items() if name in names},
        mappers={name: m for name, m in rt.mappers.items() if name in names},
        policy=rt.policy,
        clock=rt.clock,
    )


def export_tenant_info(metrics: Metrics, config: AppConfig) -> None:
    """Add `tierbridge_connector_info{connector, system, tenant}`, always 1.

    The other metrics are labelled by connector; join on it to group them by tenant, as in
    `sum by (tenant) (tierbridge_events_total * on (connector) group_left (tenant)
    tierbridge_connector_info)`.
    """
    info = Gauge(
        "tierbridge_connector_info",
        "Configured connectors with their system and tenant (always 1).",
        ["connector", "system", "tenant"],
        registry=metrics.registry,
    )
    for name, settings in config.connectors.items():
        info.labels(
            connector=name, system=settings.system, tenant=tenant_of(config, name) or ""
        ).set(1)
