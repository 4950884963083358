"""Structure checks of docker-compose.yml, since docker cannot run in this test suite.

They check the services, their health checks and start order, that every variable the
embedded config reads is set for the daemon, and that the embedded config loads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT
from tierbridge.core.config import load_config

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(COMPOSE.read_text(encoding="utf-8"))
    return data


def embedded_config(compose: dict[str, Any]) -> str:
    return str(compose["configs"]["tierbridge-config"]["content"])


def test_services_present(compose: dict[str, Any]) -> None:
    """The trial runs PostgreSQL, both emulators and the daemon."""
    assert set(compose["services"]) == {"db", "servicenow", "jira", "tierbridge"}


def test_every_service_has_healthcheck(compose: dict[str, Any]) -> None:
    """Each service has a health check with a command."""
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"][0] == "CMD", name


def test_emulator_checks_their_port(compose: dict[str, Any]) -> None:
    """Each emulator's health check connects to the port the emulator serves."""
    for name in ("servicenow", "jira"):
        service = compose["services"][name]
        (port,) = [
            arg.removeprefix("--port=") for arg in service["command"] if arg.startswith("--port=")
        ]
        assert f"('127.0.0.1', {port})" in service["healthcheck"]["test"][-1], name


def test_daemon_waits_for_healthy(compose: dict[str, Any]) -> None:
    """The daemon starts only after the database and both emulators are healthy."""
    depends = compose["services"]["tierbridge"]["depends_on"]

    assert depends == {
        name: {"condition": "service_healthy"} for name in ("db", "servicenow", "jira")
    }


def test_shared_network_namespace(compose: dict[str, Any]) -> None:
    """All services share db's namespace, since the emulators' certificates name 127.0.0.1."""
    services = compose["services"]
    for name in ("servicenow", "jira", "tierbridge"):
        assert services[name]["network_mode"] == "service:db", name
    assert "127.0.0.1:8080:8080" in services["db"]["ports"]


def test_config_variables_set(compose: dict[str, Any]) -> None:
    """Every {env: NAME} in the embedded config, and PGPASSWORD, is set for the daemon."""
    environment = compose["services"]["tierbridge"]["environment"]
    wanted = set(re.findall(r"\{env: (\w+)\}", embedded_config(compose))) | {"PGPASSWORD"}

    assert wanted <= set(environment)


def test_webhook_keys_match(compose: dict[str, Any]) -> None:
    """Each emulator signs with the same variable, and default, that the daemon verifies with."""
    daemon = compose["services"]["tierbridge"]["environment"]
    for name, variable in (
        ("servicenow", "TIERBRIDGE_SNOW_WEBHOOK_SECRET"),
        ("jira", "TIERBRIDGE_JIRA_WEBHOOK_SECRET"),
    ):
        service = compose["services"][name]
        assert f"--webhook-secret-env={variable}" in service["command"]
        assert service["environment"][variable] == daemon[variable]


def test_embedded_config_loads(compose: dict[str, Any], tmp_path: Path) -> None:
    """The embedded config loads once its container paths point at this checkout."""
    text = embedded_config(compose).replace("/app/mappings/", f"{ROOT}/mappings/")
    for system in ("servicenow", "jira"):
        bundle = tmp_path / system / "ca.pem"
        bundle.parent.mkdir()
        bundle.write_text("", encoding="utf-8")
        text = text.replace(f"/home/tierbridge/tls/{system}/ca.pem", str(bundle))
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")

    config = load_config(path)

    assert config.store.url.startswith("postgresql+psycopg://tierbridge@127.0.0.1:5432/")
    assert config.server.status_token is not None
    assert sorted(config.connectors) == ["jsm", "snow"]
