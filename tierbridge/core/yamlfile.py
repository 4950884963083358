"""Load YAML files that admins edit, and point every problem at its file, line and column.

`load_yaml` returns plain Python data (dicts, lists, scalars) for pydantic, together with a
`Locator` that keeps ruamel.yaml's round-trip tree to find where each value was written.
`issues_from_validation_error` turns a pydantic `ValidationError` into `ConfigIssue`s that
name the position, the bad value and the allowed values. A value is not echoed when its
field is a `SecretRef` or its key looks secret (password, secret, token, credential).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tierbridge.core.errors import ConfigError, ConfigIssue
from tierbridge.core.secrets import SecretRef

__all__ = ["Loc", "Locator", "issues_from_validation_error", "load_yaml", "unknown_key_message"]

#: A pydantic error location: keys and list indexes from the document root.
Loc = tuple[int | str, ...]

#: The message for a plain string where a secret reference belongs (S105: advice, not a secret).
SECRET_HINT = (
    "secrets must come from an environment variable or a file: write {env: NAME} or {file: PATH}"  # noqa: S105
)
_MAX_VALUE_CHARS = 80
#: Limit on values after anchors and aliases are expanded, against alias bombs.
_MAX_NODES = 100_000
_SECRET_KEY = re.compile(r"password|secret|token|credential", re.IGNORECASE)
_URL_USERINFO = re.compile(r"//[^/@\s]+@")


def load_yaml(path: Path) -> tuple[Any, Locator]:
    """Parse a YAML file into plain data and a `Locator` for it.

    Raises ConfigError with one positioned issue for a missing or unreadable file, a syntax
    error or a duplicate key.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _file_error(name, "file not found; check the path or create the file") from None
    except IsADirectoryError:
        raise _file_error(name, "is a folder, not a file; give the path of a YAML file") from None
    except UnicodeDecodeError as exc:
        raise _file_error(name, f"is not UTF-8 text ({exc.reason}); save it as UTF-8") from None
    except OSError as exc:
        raise _file_error(name, f"cannot be read: {exc.strerror}; check its permissions") from None

    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        raise ConfigError([_syntax_issue(name, exc)]) from None
    except YAMLError as exc:
        raise _file_error(name, f"invalid YAML: {exc}") from None

    try:
        data = _plain(tree, [_MAX_NODES])
    except (_TooLarge, RecursionError):
        msg = (
            f"expands to more than {_MAX_NODES} values or nests too deep; check anchors and aliases"
        )
        raise _file_error(name, msg) from None
    return data, Locator(name, tree)


def _file_error(name: str, message: str) -> ConfigError:
    return ConfigError([ConfigIssue(name, 1, 1, "", message)])


def _syntax_issue(name: str, exc: MarkedYAMLError) -> ConfigIssue:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    parts = [part for part in (exc.context, exc.problem) if part]
    message = "invalid YAML: " + (", ".join(parts) if parts else str(exc))
    return ConfigIssue(name, line, column, "", message)


class _TooLarge(Exception):
    pass


def _plain(node: Any, budget: list[int]) -> Any:
    """Copy a round-trip tree into built-in dicts, lists and scalars for pydantic.

    `budget` is the number of values still allowed; it shrinks as the copy grows.
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, dict):
        return {_plain(key, budget): _plain(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item, budget) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    for scalar in (str, int, float):
        if isinstance(node, scalar):
            return scalar(node)
    return node


class Locator:
    """Finds where a value sits in one YAML file, from a pydantic error location."""

    def __init__(self, file: str, tree: Any) -> None:
        self.file = file
        self._tree = tree

    def position(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        """Return the 1-based (line, column) of the deepest node of `loc` present in the file.

        The value's position is returned, or the key's when `at_key` is set or the value is
        empty. For a key that is missing, the position is that of the mapping that lacks it.
        """
        return self._walk(loc, at_key=at_key)[0]

    def dotted(self, loc: Loc) -> str:
        """Return `loc` as a dotted path, without the tags pydantic adds for unions and keys."""
        return self._walk(loc, at_key=False)[1]

    def issue(self, loc: Loc, message: str, *, at_key: bool = False) -> ConfigIssue:
        """Build a ConfigIssue at `loc` in this file."""
        line, column = self.position(loc, at_key=at_key)
        return ConfigIssue(self.file, line, column, self.dotted(loc), message)

    def _walk(self, loc: Loc, *, at_key: bool) -> tuple[tuple[int, int], str]:
        node = self._tree
        position = (0, 0)
        last: tuple[Any, Any] | None = None
        path: list[str] = []
        final = max((i for i, element in enumerate(loc) if not _is_internal(element)), default=-1)
        for index, element in enumerate(loc):
            if _is_pydantic_tag(node, element):
                continue
            child = _child(node, element)
            if child is None:
                # A missing key: point at the key of the mapping that lacks it.
                position = _node_position(*last, at_key=True) if last is not None else (0, 0)
                path.extend(str(rest) for rest in loc[index:] if not _is_internal(rest))
                break
            last = child
            path.append(str(element))
            position = _node_position(*child, at_key=at_key and index == final)
            node = child[0][child[1]]
        return (position[0] + 1, position[1] + 1), ".".join(path)


def _child(node: Any, element: int | str) -> tuple[Any, Any] | None:
    """Return (container, key) for `element` under `node`, matching 1 and "1" alike."""
    if isinstance(node, CommentedMap):
        if element in node:
            return node, element
        for key in node:
            if str(key) == str(element):
                return node, key
        return None
    if isinstance(node, CommentedSeq) and isinstance(element, int) and 0 <= element < len(node):
        return node, element
    return None


def _node_position(container: Any, key: Any, *, at_key: bool) -> tuple[int, int]:
    if isinstance(container, CommentedSeq):
        line, column = container.lc.item(key)
        return int(line), int(column)

    # ruamel.yaml places an empty value at the next token, which may be lines below.
    if at_key or container[key] is None:
        line, column = container.lc.key(key)
    else:
        line, column = container.lc.value(key)
    return int(line), int(column)


def _is_internal(element: int | str) -> bool:
    """Tell whether a loc element is pydantic's own, like `[key]` or `function-after[...]`."""
    return isinstance(element, str) and "[" in element


def _is_pydantic_tag(node: Any, element: int | str) -> bool:
    """Tell whether `element` names a union member (its tag) rather than a key in the file."""
    if _is_internal(element):
        return True
    if not isinstance(node, CommentedMap) or _child(node, element) is not None:
        return False
    return element in [value for value in node.values() if isinstance(value, str)]


# -- pydantic errors ----------------------------------------------------------------------


def issues_from_validation_error(
    exc: ValidationError,
    file: str,
    locator: Locator,
    *,
    prefix: Loc = (),
    model: Any = None,
) -> list[ConfigIssue]:
    """Turn each pydantic error into a positioned issue with the bad value and the fix.

    `prefix` is the location of the validated data inside the file, for a part validated
    on its own. `model` is the validated type, used to list the allowed keys of a mapping.
    `file` names the file in each issue (usually `locator.file`).
    """
    issues = []
    for error in exc.errors(include_url=False):
        loc = prefix + tuple(error["loc"])
        error_model_loc = tuple(error["loc"])
        at_key = error["type"] == "extra_forbidden" or "[key]" in error_model_loc
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += (error.get("ctx", {}).get("discriminator", "").strip("'"),)
        line, column = locator.position(loc, at_key=at_key)
        message = _message(error, model, error_model_loc)
        issues.append(ConfigIssue(file, line, column, locator.dotted(loc), message))
    return issues


#: The fix for a value of the wrong scalar type, by pydantic error type.
_TYPE_FIXES = {
    "bool_parsing": "use true or false",
    "bool_type": "use true or false",
    "int_parsing": "use a whole number",
    "int_type": "use a whole number",
    "int_from_float": "use a whole number",
    "float_parsing": "use a number",
    "float_type": "use a number",
}


def _message(error: ErrorDetails, model: Any, loc: Loc) -> str:
    kind = error["type"]
    context = error.get("ctx", {})
    secret = _is_secret(model, loc)

    if kind == "model_type" and context.get("class_name") == SecretRef.__name__:
        return SECRET_HINT
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "extra_forbidden":
        return unknown_key_message(str(loc[-1]), _allowed_keys(model, loc[:-1]))
    if kind == "union_tag_not_found":
        return f"missing required key {context.get('discriminator', '')}"

    if kind == "union_tag_invalid":
        tags = context.get("expected_tags", "")
        return f"invalid value {_show(context.get('tag'))}; allowed: {tags}"

    # A secret's value is never shown, even when it is the wrong type.
    value = "" if secret else _show(error["input"])
    if kind in ("enum", "literal_error"):
        return f"invalid value {value or '(secret)'}; allowed: {context.get('expected', '')}"
    if kind in _TYPE_FIXES:
        return f"invalid value {value or '(secret)'}; {_TYPE_FIXES[kind]}"
    if kind == "value_error":
        text = error["msg"].removeprefix("Value error, ")
        if "[key]" in loc:
            return f"invalid key {value}: {text}"
        return f"{text} (value: {value})" if value else text
    return f"{error['msg']}; got {value}" if value else error["msg"]


def unknown_key_message(key: str, allowed: list[str] | None) -> str:
    """Say that `key` is unknown, list the allowed keys and suggest the closest one."""
    if not allowed:
        return f"unknown key {key!r}; remove it"
    message = f"unknown key {key!r}; allowed keys: {', '.join(allowed)}"
    close = difflib.get_close_matches(key, allowed, n=1)
    return message + (f" (did you mean {close[0]!r}?)" if close else "")


def _show(value: Any) -> str:
    """Describe an input value for a message, cut to 80 characters, with URL credentials masked."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = _URL_USERINFO.sub("//***@", repr(value))
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


# -- walking model types along a location -------------------------------------------------


def _is_secret(model: Any, loc: Loc) -> bool:
    if any(isinstance(element, str) and _SECRET_KEY.search(element) for element in loc):
        return True
    return any(tp is SecretRef for tp in _types_along(model, loc))


def _allowed_keys(model: Any, loc: Loc) -> list[str] | None:
    types_seen = _types_along(model, loc)
    if len(types_seen) != len(loc) + 1:
        return None
    target = types_seen[-1]
    if isinstance(target, type) and issubclass(target, BaseModel):
        return sorted(target.model_fields)
    return None


def _types_along(model: Any, loc: Loc) -> list[Any]:
    """Return the types that `loc` passes through, from `model` to the first unknown step."""
    if model is None:
        return []
    seen = [model]
    current: Any = model
    for element in loc:
        if _is_internal(element):
            seen.append(current)
            continue
        step = _step(current, element)
        if step is None:
            break
        current = step
        seen.append(current)
    return seen


def _step(tp: Any, element: int | str) -> Any:
    """Return the type found under `element` inside a value of type `tp`, or None."""
    tp = _unwrap(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _step_union(typing.get_args(tp), element)
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin in (list, tuple, set, frozenset, Sequence):
        args = typing.get_args(tp)
        return args[0] if args else None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(element))
        return field.annotation if field is not None else None
    return None


def _step_union(members: tuple[Any, ...], element: int | str) -> Any:
    models = [m for m in map(_unwrap, members) if isinstance(m, type) and issubclass(m, BaseModel)]
    for member in models:
        if str(element) in member.model_fields:
            return member.model_fields[str(element)].annotation
    for member in models:
        if _tag_of(member) == element:
            return member
    return None


def _tag_of(model: type[BaseModel]) -> Any:
    """Return the literal `type` value that tags a member of a discriminated union."""
    field = model.model_fields.get("type")
    if field is None or typing.get_origin(field.annotation) is not typing.Literal:
        return None
    return typing.get_args(field.annotation)[0]


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp
