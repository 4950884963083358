"""Tests for loading the config file, its cross-checks and its mapping files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.connector_settings import BasicAuth
from tierbridge.core.errors import ConfigError, ConfigIssue
from tierbridge.core.model import Priority, Tier

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
DEMO = ROOT / "config" / "demo.yaml"
SECRET_VARIABLES = (
    "TIERBRIDGE_SNOW_PASSWORD",
    "TIERBRIDGE_SNOW_WEBHOOK_SECRET",
    "TIERBRIDGE_JIRA_TOKEN",
    "TIERBRIDGE_JIRA_WEBHOOK_SECRET",
)

MINIMAL = """\
connectors:
  snow:
    system: servicenow
    base_url: https://127.0.0.1:18443
    mapping: mappings/servicenow.yaml
    auth: {type: basic, username: svc, password: {env: SNOW_PASSWORD}}
  jsm:
    system: jira
    base_url: https://127.0.0.1:18444
    mapping: mappings/jira.yaml
    project: L2
    service_desk_id: "1"
    request_type_id: "10"
    auth: {type: basic, username: svc@example.com, password: {file: secrets/jira-token}}
tiers:
  L1: {connector: snow}
  L2: {connector: jsm}
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with the shipped mappings under mappings/, for configs written by tests."""
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    return tmp_path


def write_config(folder: Path, text: str) -> Path:
    path = folder / "tierbridge.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def issues_of(path: Path) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return list(caught.value.issues)


def issue_at(issues: list[ConfigIssue], path: str) -> ConfigIssue:
    found = [issue for issue in issues if issue.path == path]
    assert found, f"no issue at {path}; got {[str(i) for i in issues]}"
    return found[0]


def line_of(path: Path, text: str) -> int:
    """Return the 1-based number of the first line of `path` that contains `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


class TestDemoConfig:
    def test_loads_without_secrets(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The demo config loads although no secret variable is set."""
        for name in SECRET_VARIABLES:
            monkeypatch.delenv(name, raising=False)

        config = load_config(DEMO)

        assert sorted(config.connectors) == ["jsm", "snow"]
        assert config.tiers[Tier.L1].connector == "snow"
        assert config.escalation.to_L2.priorities == (Priority.P1, Priority.P2)
        assert config.escalation.to_L2.assignment_groups == (
            "Outsourced L2",
            "Group 39",
            "Group 54",
        )

    def test_secrets_resolve_when_set(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Secret references read their variable when resolved."""
        monkeypatch.setenv("TIERBRIDGE_SNOW_PASSWORD", "s3cret-value")

        auth = load_config(DEMO).connector("snow").auth

        assert isinstance(auth, BasicAuth)
        assert auth.password.resolve() == "s3cret-value"

    def test_repr_hides_secret_values(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The config's repr names the variables but never their values."""
        monkeypatch.setenv("TIERBRIDGE_SNOW_PASSWORD", "s3cret-value")

        text = repr(load_config(DEMO))

        assert "s3cret-value" not in text
        assert "TIERBRIDGE_SNOW_PASSWORD" in text

    def test_connectors_get_system_models(self) -> None:
        """Each connector entry is validated by its system's settings model."""
        config = load_config(DEMO)

        assert isinstance(config.connector("snow"), ServiceNowSettings)
        jsm = config.connector("jsm")
        assert isinstance(jsm, JiraSettings)
        assert jsm.project == "L2"

    def test_paths_resolved_from_config_folder(self) -> None:
        """Mapping paths and the SQLite file start at the config's folder."""
        config = load_config(DEMO)

        assert config.connector("snow").mapping == ROOT / "mappings" / "servicenow.yaml"
        assert config.store.url == f"sqlite:///{ROOT / 'var' / 'tierbridge.db'}"

    def test_mappings_loaded(self) -> None:
        """mapping_for returns each connector's loaded mapping."""
        config = load_config(DEMO)

        assert config.mapping_for("snow").system == "servicenow"
        assert config.mapping_for("jsm").system == "jira"

    def test_example_config_loads(self) -> None:
        """The commented example config is valid as shipped."""
        config = load_config(ROOT / "config" / "example.yaml")

        assert config.store.url.startswith("postgresql+psycopg://")
        assert sorted(config.connectors) == ["client-snow", "l2-jsm"]

    def test_config_is_frozen(self) -> None:
        """The loaded config cannot be changed in place."""
        config = load_config(DEMO)

        with pytest.raises(ValidationError):
            config.server = config.server


class TestDefaults:
    def test_defaults_applied(self, workdir: Path) -> None:
        """Server, logging, escalation and store get their defaults when left out."""
        config = load_config(write_config(workdir, MINIMAL))

        assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
        assert config.logging.level == "info"
        assert config.escalation.to_L2.priorities == ()
        assert config.store.url == f"sqlite:///{workdir / 'var' / 'tierbridge.db'}"

    def test_secret_file_resolved(self, workdir: Path) -> None:
        """A relative secret file starts at the config's folder."""
        (workdir / "secrets").mkdir()
        (workdir / "secrets" / "jira-token").write_text("tok-123\n", encoding="utf-8")

        auth = load_config(write_config(workdir, MINIMAL)).connector("jsm").auth

        assert isinstance(auth, BasicAuth)
        assert auth.password.file == workdir / "secrets" / "jira-token"
        assert auth.password.resolve() == "tok-123"

    def test_relative_sqlite_anchored(self, workdir: Path) -> None:
        """A relative SQLite path starts at the config's folder."""
        path = write_config(workdir, "store: {url: 'sqlite:///state/x.db'}\n" + MINIMAL)

        assert load_config(path).store.url == f"sqlite:///{workdir / 'state' / 'x.db'}"

    @pytest.mark.parametrize(
        "url",
        ["sqlite:////srv/tierbridge.db", "sqlite://", "postgresql+psycopg://tb@db.example.com/tb"],
    )
    def test_other_store_urls_kept(self, workdir: Path, url: str) -> None:
        """Absolute, in-memory and PostgreSQL URLs are kept as written."""
        path = write_config(workdir, f"store: {{url: '{url}'}}\n" + MINIMAL)

        assert load_config(path).store.url == url

    def test_store_password_rejected(self, workdir: Path) -> None:
        """A password inside the store URL is an error that never echoes it."""
        path = write_config(workdir, "store:\n  url: postgresql://tb:pw123@db/tb\n" + MINIMAL)

        issue = issue_at(issues_of(path), "store.url")

        assert "must not contain a password" in issue.message
        assert "pw123" not in issue.message
        assert (issue.line, issue.column) == (2, 8)

    def test_unknown_connector_lookup(self) -> None:
        """Asking for a connector that is not configured raises ConfigError listing them."""
        config = load_config(DEMO)

        with pytest.raises(ConfigError, match="configured: jsm, snow"):
            config.connector("zendesk")
        with pytest.raises(ConfigError, match="'zendesk' is not configured"):
            config.mapping_for("zendesk")

    def test_config_built_in_code(self) -> None:
        """A config built from plain data keeps system models and can serve mappings."""
        loaded = load_config(DEMO)
        built = AppConfig.model_validate(loaded.model_dump())

        served = built.with_mappings({"snow": loaded.mapping_for("snow")})

        assert isinstance(built.connector("snow"), ServiceNowSettings)
        assert built.connector("jsm") == loaded.connector("jsm")
        assert served.mapping_for("snow") is loaded.mapping_for("snow")


class TestErrors:
    def test_bad_value_located(self, workdir: Path) -> None:
        """A bad value is reported at file:line:column with the value and allowed values."""
        path = write_config(workdir, MINIMAL + "logging:\n  level: loud\n")

        (issue,) = issues_of(path)

        assert issue.file == str(path)
        assert (issue.line, issue.column) == (line_of(path, "level: loud"), 10)
        assert issue.path == "logging.level"
        assert "'loud'" in issue.message
        assert "'debug', 'info', 'warning' or 'error'" in issue.message

    def test_unknown_key_in_connector(self, workdir: Path) -> None:
        """An unknown key in a connector entry lists the system's keys and a suggestion."""
        text = MINIMAL.replace("    project: L2\n", "    project: L2\n    projct: L3\n")
        path = write_config(workdir, text)

        issue = issue_at(issues_of(path), "connectors.jsm.projct")

        assert (issue.line, issue.column) == (line_of(path, "projct"), 5)
        assert "did you mean 'project'?" in issue.message
        assert "request_type_id" in issue.message

    def test_plain_string_secret(self, workdir: Path) -> None:
        """A plain string where a secret belongs gets the {env: NAME} advice, not echoed."""
        text = MINIMAL.replace("{env: SNOW_PASSWORD}", "hunter2-plain")
        path = write_config(workdir, text)

        issue = issue_at(issues_of(path), "connectors.snow.auth.password")

        assert "secrets must come from an environment variable or a file" in issue.message
        assert "write {env: NAME}" in issue.message
        assert "hunter2" not in issue.message

    def test_several_errors_reported_together(self) -> None:
        """Every independent mistake in one file is reported in one ConfigError."""
        path = FIXTURES / "several_errors.yaml"

        issues = issues_of(path)

        assert {issue.path for issue in issues} == {
            "server.port",
            "server.hots",
            "connectors.snow.auth.password",
            "connectors.desk.system",
            "tiers.L2.connector",
            "escalation.to_L2.priorities.1",
        }
        assert all(issue.file == str(path) for issue in issues)
        assert [issue.line for issue in issues] == sorted(issue.line for issue in issues)

    def test_unknown_system_lists_known(self) -> None:
        """An unknown system is reported at its value with the known systems."""
        path = FIXTURES / "several_errors.yaml"

        issue = issue_at(issues_of(path), "connectors.desk.system")

        assert issue.line == line_of(path, "zendesk")
        assert (
            "unknown system 'zendesk'; allowed: dynamics, jira, salesforce, servicenow"
            in issue.message
        )

    def test_mapping_error_uses_mapping_file(self) -> None:
        """A bad value in a mapping file is reported at that file's own line."""
        mapping = FIXTURES / "bad_mapping.yaml"

        issues = issues_of(FIXTURES / "with_bad_mapping.yaml")

        issue = issue_at(issues, "values.status.inbound.6")
        assert issue.file == str(mapping)
        assert issue.line == line_of(mapping, '"6": done')
        assert "'done'" in issue.message

    def test_mapping_and_config_errors_together(self, tmp_path: Path) -> None:
        """Config issues and mapping issues come in one error, config first."""
        shutil.copy(FIXTURES / "bad_mapping.yaml", tmp_path / "bad_mapping.yaml")
        shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
        text = (FIXTURES / "with_bad_mapping.yaml").read_text(encoding="utf-8")
        text = text.replace("../../../mappings/", "mappings/") + "server: {port: -1}\n"
        path = write_config(tmp_path, text)

        issues = issues_of(path)

        assert issues[0].path == "server.port"
        assert issues[0].file == str(path)
        assert {issue.file for issue in issues[1:]} == {str(tmp_path / "bad_mapping.yaml")}

    def test_missing_mapping_file(self, workdir: Path) -> None:
        """A mapping path that does not exist is reported at the connector's mapping key."""
        path = write_config(workdir, MINIMAL.replace("mappings/jira.yaml", "mappings/jsm.yaml"))

        issue = issue_at(issues_of(path), "connectors.jsm.mapping")

        assert "mappings/jsm.yaml not found" in issue.message
        assert issue.line == line_of(path, "mappings/jsm.yaml")

    def test_mapping_for_other_system(self, workdir: Path) -> None:
        """A mapping written for another system is rejected at the mapping key."""
        path = write_config(
            workdir, MINIMAL.replace("mappings/jira.yaml", "mappings/servicenow.yaml")
        )

        issue = issue_at(issues_of(path), "connectors.jsm.mapping")

        assert "is for system 'servicenow', not 'jira'" in issue.message

    def test_correlation_field_mismatch(self, workdir: Path) -> None:
        """A Jira correlation_field that differs from the mapping's is an error."""
        text = MINIMAL.replace(
            "    project: L2\n", "    project: L2\n    correlation_field: customfield_1\n"
        )
        path = write_config(workdir, text)

        issue = issue_at(issues_of(path), "connectors.jsm.mapping")

        assert "'customfield_10060'" in issue.message
        assert "'customfield_1'" in issue.message

    def test_category_field_mismatch(self, workdir: Path) -> None:
        """A Jira category_field that differs from the mapping's category is an error."""
        text = MINIMAL.replace(
            "    project: L2\n", "    project: L2\n    category_field: customfield_2\n"
        )
        path = write_config(workdir, text)
        mapping = workdir / "mappings" / "jira.yaml"
        mapping.write_text(
            mapping.read_text().replace("fields:\n", "fields:\n  category: customfield_10050\n", 1)
        )

        issue = issue_at(issues_of(path), "connectors.jsm.mapping")

        assert "stores category in 'customfield_10050'" in issue.message
        assert "'customfield_2'" in issue.message

    def test_missing_ca_bundle(self, workdir: Path) -> None:
        """A CA bundle path that does not exist is an error at its key."""
        text = MINIMAL.replace("    project: L2\n", "    project: L2\n    ca_bundle: tls/ca.pem\n")
        path = write_config(workdir, text)

        issue = issue_at(issues_of(path), "connectors.jsm.ca_bundle")

        assert str(workdir / "tls" / "ca.pem") in issue.message

    def test_http_base_url_rejected(self, workdir: Path) -> None:
        """A plain-http base URL is rejected with the value shown."""
        path = write_config(
            workdir, MINIMAL.replace("https://127.0.0.1:18443", "http://127.0.0.1:18443")
        )

        issue = issue_at(issues_of(path), "connectors.snow.base_url")

        assert "must use https" in issue.message
        assert "'http://127.0.0.1:18443'" in issue.message

    def test_invalid_connector_name(self, workdir: Path) -> None:
        """A connector name with capitals is rejected at the key."""
        path = write_config(
            workdir, MINIMAL.replace("  jsm:", "  JSM:").replace("connector: jsm", "connector: JSM")
        )

        issue = issue_at(issues_of(path), "connectors.JSM")

        assert "invalid connector name 'JSM'" in issue.message
        assert issue.column == 3


class TestCrossChecks:
    def test_tier_connector_must_exist(self, workdir: Path) -> None:
        """A tier naming an unknown connector lists the configured ones."""
        path = write_config(
            workdir, MINIMAL.replace("L2: {connector: jsm}", "L2: {connector: jira}")
        )

        issue = issue_at(issues_of(path), "tiers.L2.connector")

        assert "unknown connector 'jira'; configured: jsm, snow" in issue.message

    def test_l1_and_l2_required(self, workdir: Path) -> None:
        """Tiers L1 and L2 must both be configured."""
        path = write_config(workdir, MINIMAL.replace("  L2: {connector: jsm}\n", ""))

        issue = issue_at(issues_of(path), "tiers.L2")

        assert issue.message == "missing tier L2"

    def test_l3_is_optional(self, workdir: Path) -> None:
        """An L3 tier may be added when its connector exists."""
        third = (
            "  l3:\n"
            "    system: jira\n"
            "    base_url: https://127.0.0.1:18445\n"
            "    mapping: mappings/jira.yaml\n"
            "    project: L3\n"
            "    service_desk_id: '2'\n"
            "    request_type_id: '3'\n"
            "    auth: {type: basic, username: u, password: {env: L3_TOKEN}}\n"
        )
        text = MINIMAL.replace("tiers:\n", third + "tiers:\n") + "  L3: {connector: l3}\n"

        assert load_config(write_config(workdir, text)).tiers[Tier.L3].connector == "l3"

    def test_connector_serves_one_tier(self, workdir: Path) -> None:
        """One connector may not serve two tiers."""
        path = write_config(
            workdir, MINIMAL.replace("L2: {connector: jsm}", "L2: {connector: snow}")
        )

        issue = issue_at(issues_of(path), "tiers.L2.connector")

        assert "already serves L1" in issue.message

    def test_unknown_tier_rejected(self, workdir: Path) -> None:
        """A tier other than L1, L2 or L3 is rejected at its key."""
        path = write_config(workdir, MINIMAL + "  L4: {connector: jsm}\n")

        issue = issue_at(issues_of(path), "tiers.L4")

        assert "allowed: L1, L2, L3" in issue.message

    def test_required_sections(self, workdir: Path) -> None:
        """A file without connectors and tiers names both."""
        path = write_config(workdir, "server: {port: 8080}\n")

        paths = {issue.path for issue in issues_of(path)}

        assert paths == {"connectors", "tiers"}

    def test_top_level_must_be_mapping(self, workdir: Path) -> None:
        """A file whose top level is a list is one clear issue."""
        (issue,) = issues_of(write_config(workdir, "- a\n- b\n"))

        assert "expected a mapping" in issue.message
        assert (issue.line, issue.column) == (1, 1)

    def test_missing_config_file(self, tmp_path: Path) -> None:
        """A config path that does not exist is one issue naming it."""
        (issue,) = issues_of(tmp_path / "nope.yaml")

        assert issue.file == str(tmp_path / "nope.yaml")
        assert "not found" in issue.message
