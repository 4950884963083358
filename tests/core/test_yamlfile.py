"""Tests for YAML loading, positions of values, and messages built from pydantic errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tierbridge.core.errors import ConfigError, ConfigIssue
from tierbridge.core.secrets import SecretRef
from tierbridge.core.yamlfile import Locator, issues_from_validation_error, load_yaml

FIXTURES = Path(__file__).parent / "fixtures"

DOCUMENT = """\
name: demo
server:
  host: 127.0.0.1
  port: 8080
list:
  - first
  - {key: value}
flow: {a: 1, b: [x, y]}
empty:
"number": 1
"""


def write(tmp_path: Path, text: str, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_issue(exc: ConfigError) -> ConfigIssue:
    assert len(exc.issues) == 1
    return exc.issues[0]


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["basic"]
    username: str
    password: SecretRef


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["debug", "info"] = "info"
    port: int = Field(default=8080, le=65535)
    name: str = "x"
    enabled: bool = True
    auth: _Auth | None = None


def validation_issues(tmp_path: Path, text: str) -> list[ConfigIssue]:
    data, locator = load_yaml(write(tmp_path, text))
    with pytest.raises(ValidationError) as caught:
        _Doc.model_validate(data)
    return issues_from_validation_error(caught.value, locator.file, locator, model=_Doc)


class TestLoadYaml:
    def test_returns_plain_builtin_types(self, tmp_path: Path) -> None:
        """Round-trip containers come back as plain dicts and lists for pydantic."""
        data, _ = load_yaml(write(tmp_path, DOCUMENT))

        assert type(data) is dict
        assert type(data["list"]) is list
        assert type(data["server"]["port"]) is int
        assert data["flow"] == {"a": 1, "b": ["x", "y"]}
        assert data["empty"] is None

    def test_missing_file_names_path(self, tmp_path: Path) -> None:
        """A missing file raises ConfigError naming the path and the fix."""
        path = tmp_path / "absent.yaml"

        with pytest.raises(ConfigError) as caught:
            load_yaml(path)

        issue = only_issue(caught.value)
        assert issue.file == str(path)
        assert "not found" in issue.message
        assert "check the path" in issue.message

    def test_folder_is_rejected(self, tmp_path: Path) -> None:
        """A folder given as the file raises ConfigError saying so."""
        with pytest.raises(ConfigError) as caught:
            load_yaml(tmp_path)

        assert "is a folder" in only_issue(caught.value).message

    def test_non_utf8_is_rejected(self, tmp_path: Path) -> None:
        """A file that is not UTF-8 raises ConfigError asking for UTF-8."""
        path = tmp_path / "latin1.yaml"
        path.write_bytes("name: caf\xe9\n".encode("latin-1"))

        with pytest.raises(ConfigError) as caught:
            load_yaml(path)

        assert "UTF-8" in only_issue(caught.value).message

    def test_syntax_error_has_position(self) -> None:
        """A YAML syntax error is reported at its line and column, 1-based."""
        path = FIXTURES / "syntax_error.yaml"

        with pytest.raises(ConfigError) as caught:
            load_yaml(path)

        issue = only_issue(caught.value)
        assert issue.file == str(path)
        assert (issue.line, issue.column) == (4, 11)
        assert issue.path == ""
        assert issue.message.startswith("invalid YAML: ")
        assert "flow sequence" in issue.message

    def test_duplicate_key_is_error(self) -> None:
        """A key given twice in one mapping is an error at the second one."""
        with pytest.raises(ConfigError) as caught:
            load_yaml(FIXTURES / "duplicate_key.yaml")

        issue = only_issue(caught.value)
        assert issue.line == 3
        assert "duplicate key" in issue.message

    def test_alias_bomb_is_rejected(self, tmp_path: Path) -> None:
        """Aliases that expand to a million values are rejected."""
        lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
        for level in range(1, 7):
            refs = ", ".join([f"*a{level - 1}"] * 10)
            lines.append(f"a{level}: &a{level} [{refs}]")
        path = write(tmp_path, "\n".join(lines) + "\n")

        with pytest.raises(ConfigError) as caught:
            load_yaml(path)

        assert "check anchors and aliases" in only_issue(caught.value).message

    def test_small_aliases_expand(self, tmp_path: Path) -> None:
        """Ordinary anchors and aliases expand into plain copies."""
        path = write(tmp_path, "base: &auth {type: basic}\nother: *auth\n")

        data, _ = load_yaml(path)

        assert data["other"] == {"type": "basic"}


class TestLocator:
    @pytest.fixture
    def locator(self, tmp_path: Path) -> Locator:
        return load_yaml(write(tmp_path, DOCUMENT))[1]

    @pytest.mark.parametrize(
        ("loc", "expected"),
        [
            (("name",), (1, 7)),
            (("server",), (3, 3)),
            (("server", "port"), (4, 9)),
            (("list", 0), (6, 5)),
            (("list", 1, "key"), (7, 11)),
            (("flow", "b", 1), (8, 21)),
            (("number",), (10, 11)),
        ],
    )
    def test_value_positions(self, locator: Locator, loc: tuple[Any, ...], expected: Any) -> None:
        """Each location maps to the 1-based line and column of its value."""
        assert locator.position(loc) == expected

    def test_key_position_on_request(self, locator: Locator) -> None:
        """With at_key the key's position is returned instead of the value's."""
        assert locator.position(("server", "port"), at_key=True) == (4, 3)

    def test_empty_value_points_at_key(self, locator: Locator) -> None:
        """An empty value is located at its key, not at the next token."""
        assert locator.position(("empty",)) == (9, 1)

    def test_missing_key_points_at_parent(self, locator: Locator) -> None:
        """A missing key is located at the key of the mapping that lacks it."""
        assert locator.position(("server", "timeout")) == (2, 1)
        assert locator.dotted(("server", "timeout")) == "server.timeout"

    def test_missing_top_level_key(self, locator: Locator) -> None:
        """A missing top-level key is located at the start of the file."""
        assert locator.position(("tiers", "L1")) == (1, 1)
        assert locator.dotted(("tiers", "L1")) == "tiers.L1"

    def test_number_and_string_keys_match(self, tmp_path: Path) -> None:
        """A loc element 1 finds the YAML key "1" and the other way round."""
        _, locator = load_yaml(write(tmp_path, 'a: {1: x}\nb: {"2": y}\n'))

        assert locator.position(("a", "1")) == (1, 8)
        assert locator.position(("b", 2)) == (2, 10)

    def test_pydantic_tags_are_skipped(self, tmp_path: Path) -> None:
        """Union tags and `[key]` markers in a loc are not treated as keys."""
        _, locator = load_yaml(write(tmp_path, "auth:\n  type: basic\n  password: x\n"))

        assert locator.position(("auth", "basic", "password")) == (3, 13)
        assert locator.dotted(("auth", "basic", "password")) == "auth.password"
        assert locator.dotted(("auth", "[key]")) == "auth"


class TestIssuesFromValidationError:
    def test_literal_lists_allowed_values(self, tmp_path: Path) -> None:
        """A literal error shows the bad value and the allowed ones, at the value."""
        (issue,) = validation_issues(tmp_path, "name: a\nlevel: loud\n")

        assert (issue.line, issue.column) == (2, 8)
        assert issue.path == "level"
        assert "'loud'" in issue.message
        assert "allowed: 'debug' or 'info'" in issue.message

    def test_range_error_shows_value(self, tmp_path: Path) -> None:
        """A constraint error keeps pydantic's text and adds the bad value."""
        (issue,) = validation_issues(tmp_path, "port: 70000\n")

        assert issue.message == "Input should be less than or equal to 65535; got 70000"

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("enabled: maybe", "invalid value 'maybe'; use true or false"),
            ("port: eighty", "invalid value 'eighty'; use a whole number"),
            ("port: 80.5", "invalid value 80.5; use a whole number"),
        ],
    )
    def test_wrong_type_names_fix(self, tmp_path: Path, line: str, expected: str) -> None:
        """A value of the wrong scalar type is shown with the kind of value to use."""
        (issue,) = validation_issues(tmp_path, line + "\n")

        assert issue.message == expected

    def test_long_value_is_truncated(self, tmp_path: Path) -> None:
        """A long bad value is cut to 80 characters."""
        (issue,) = validation_issues(tmp_path, f"level: {'x' * 200}\n")

        displayed_value = issue.message.split("invalid value ")[1].split("; allowed")[0]
        assert len(displayed_value) == 80
        assert displayed_value.endswith("...")

    def test_unknown_key_suggests_closest(self, tmp_path: Path) -> None:
        """An unknown key lists the allowed keys, suggests the closest, points at the key."""
        (issue,) = validation_issues(tmp_path, "name: a\nlevle: info\n")

        assert (issue.line, issue.column) == (2, 1)
        assert "unknown key 'levle'" in issue.message
        assert "allowed keys: auth, enabled, level, name, port" in issue.message
        assert "did you mean 'level'?" in issue.message

    def test_plain_secret_gets_advice(self, tmp_path: Path) -> None:
        """A plain string where a secret belongs gets the env/file advice, never the value."""
        text = "auth: {type: basic, username: u, password: hunter2}\n"
        (issue,) = validation_issues(tmp_path, text)

        assert issue.path == "auth.password"
        assert "write {env: NAME}" in issue.message
        assert "hunter2" not in issue.message

    def test_secret_value_never_shown(self, tmp_path: Path) -> None:
        """A wrong value under a secret-looking key is not echoed."""
        (issue,) = validation_issues(
            tmp_path, "auth: {type: basic, username: u, password: [x1y2]}\n"
        )

        assert "x1y2" not in issue.message

    def test_missing_key_names_it(self, tmp_path: Path) -> None:
        """A missing key is named and located at the mapping that lacks it."""
        (issue,) = validation_issues(tmp_path, "auth:\n  type: basic\n  password: {env: X}\n")

        assert issue.message == "missing required key 'username'"
        assert issue.path == "auth.username"
        assert issue.line == 1

    def test_url_credentials_are_masked(self, tmp_path: Path) -> None:
        """User and password inside a URL value are masked in messages."""
        (issue,) = validation_issues(tmp_path, "port: https://me:pw@example.com\n")

        assert "me:pw" not in issue.message
        assert "//***@example.com" in issue.message

    def test_prefix_places_part_in_file(self, tmp_path: Path) -> None:
        """Errors of a part validated alone are located under the given prefix."""
        data, locator = load_yaml(write(tmp_path, "parts:\n  one:\n    level: loud\n"))
        with pytest.raises(ValidationError) as caught:
            _Doc.model_validate(data["parts"]["one"])

        (issue,) = issues_from_validation_error(
            caught.value, locator.file, locator, prefix=("parts", "one"), model=_Doc
        )

        assert issue.path == "parts.one.level"
        assert (issue.line, issue.column) == (3, 12)
