"""Validate issue field values from the wire and turn them into the state's internal values.

Each parser takes the JSON value Jira accepts for the field (`{"name": "High"}`,
`{"accountId": "..."}`, an ADF document) and returns the stored form or raises FieldError with
the message Jira puts under `errors.<field>`. The same table lists the fields of the edit
screen, which `edit_metadata` describes as editmeta does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.adf import AdfError, check_adf
from tierbridge.emulators.jira.render import Renderer
from tierbridge.emulators.jira.state import JiraState, StoredIssue
from tierbridge.emulators.jira.wire import ApiError

__all__ = [
    "FieldError",
    "apply_update_operations",
    "edit_metadata",
    "not_settable",
    "parse_fields",
    "resolution_id",
]

_MAX_SUMMARY = 255
#: Fields an edit may not leave empty.
_REQUIRED = frozenset({"summary", "reporter"})
#: Operations of the `update` object by field. Every other field offers only `set`.
_OPERATIONS: Mapping[str, tuple[str, ...]] = {"labels": ("add", "set", "remove")}


class FieldError(ValueError):
    """A field value Jira would refuse; the text is Jira's message for it."""


def not_settable(name: str) -> str:
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


def _summary(_: JiraState, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError("You must specify a summary of the issue.")
    if len(value) > _MAX_SUMMARY:
        raise FieldError("Summary must be less than 255 characters.")
    return value


def _description(_: JiraState, value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        return check_adf(value)
    except AdfError as exc:
        raise FieldError(str(exc)) from exc


def _priority(_: JiraState, value: object) -> str:
    if not isinstance(value, dict):
        raise FieldError("Specify the Priority (id or name) in the string format")
    for pid, name in catalog.PRIORITIES:
        if value.get("id") == pid or value.get("name") == name:
            return pid
    if "id" in value:
        raise FieldError(f"Priority with id '{value['id']}' does not exist")
    raise FieldError(f"Priority name '{value.get('name')}' is not valid")


def _person(state: JiraState, value: object, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("accountId"), str):
        raise FieldError('Specify a user with an accountId, for example {"accountId": "..."}')
    account_id: str = value["accountId"]
    if account_id not in state.by_account:
        raise FieldError(f"User '{account_id}' cannot be assigned issues.")
    return account_id


def _assignee(state: JiraState, value: object) -> str | None:
    return _person(state, value, required=False)


def _reporter(state: JiraState, value: object) -> str | None:
    return _person(state, value, required=True)


def _labels(_: JiraState, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise FieldError("Labels must be an array of strings.")
    for label in value:
        if not label or any(char.isspace() for char in label):
            raise FieldError(f"The label '{label}' contains spaces which is invalid.")
    return list(dict.fromkeys(value))


def _correlation(_: JiraState, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("Operation value must be a string")
    if len(value) > _MAX_SUMMARY:
        raise FieldError("External reference: must be less than 255 characters.")
    return value


def _category(_: JiraState, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("Specify a valid value for Category")
    for option_id, label in catalog.CATEGORY_OPTIONS.items():
        if value.get("id") == option_id or value.get("value") == label:
            return option_id
    if "id" in value:
        raise FieldError(f"Option id '{value['id']}' is not valid.")
    raise FieldError(f"Option value '{value.get('value')}' is not valid.")


def resolution_id(value: object) -> str | None:
    """Return the id of the resolution named by `{"name": ...}` or `{"id": ...}`, or None for null."""
    if value is None:
        return None
    if isinstance(value, dict):
        for rid, name, _ in catalog.RESOLUTIONS:
            if value.get("id") == rid or value.get("name") == name:
                return rid
    raise FieldError("Could not find valid 'id' or 'name' in resolution object.")


def _resolution(_: JiraState, value: object) -> str | None:
    return resolution_id(value)


_PARSERS: Mapping[str, Callable[[JiraState, object], Any]] = {
    "summary": _summary,
    "description": _description,
    "priority": _priority,
    "assignee": _assignee,
    "reporter": _reporter,
    "labels": _labels,
    catalog.CORRELATION_FIELD: _correlation,
    catalog.CATEGORY_FIELD: _category,
}


def parse_fields(
    state: JiraState,
    fields: Mapping[str, Any],
    *,
    servicedesk: bool = False,
    resolution: bool = False,
) -> dict[str, Any]:
    """Validate every field and return the internal values; raise one 400 listing all errors.

    `resolution` admits the Resolution field, as an edit screen that contains it does.
    """
    parsers = {**_PARSERS, "resolution": _resolution} if resolution else _PARSERS
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in fields.items():
        parser = parsers.get(name)
        if parser is None:
            errors[name] = not_settable(name)
            continue
        try:
            values[name] = parser(state, raw)
        except FieldError as exc:
            errors[name] = str(exc)
    if errors:
        raise ApiError(400, [], errors, servicedesk=servicedesk)
    return values


def edit_metadata(renderer: Renderer, *, resolution: bool) -> dict[str, Any]:
    """Return the `fields` of editmeta: every field the edit (PUT) accepts, by field id.

    `resolution` adds the Resolution field, as an edit screen that contains it does.
    """
    names = [*_PARSERS, "resolution"] if resolution else list(_PARSERS)
    definitions = {definition.id: definition for definition in catalog.FIELDS}
    return {name: _field_metadata(definitions[name], renderer) for name in names}


def _field_metadata(definition: catalog.FieldDef, renderer: Renderer) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "required": definition.id in _REQUIRED,
        "schema": definition.to_json()["schema"],
        "name": definition.name,
        "key": definition.id,
        "operations": list(_OPERATIONS.get(definition.id, ("set",))),
    }
    allowed = _allowed_values(definition.id, renderer)
    if allowed is not None:
        metadata["allowedValues"] = allowed
    return metadata


def _allowed_values(field_id: str, renderer: Renderer) -> list[Any] | None:
    """Return the values a select-like field offers, or None for a free field."""
    if field_id == "priority":
        return [renderer.priority(pid) for pid, _ in catalog.PRIORITIES]
    if field_id == "resolution":
        return [renderer.resolution(rid) for rid, _, _ in catalog.RESOLUTIONS]
    if field_id == catalog.CATEGORY_FIELD:
        return [renderer.category_option(option_id) for option_id in catalog.CATEGORY_OPTIONS]
    return None


def apply_update_operations(issue: StoredIssue, update: object) -> tuple[dict[str, Any], list[Any]]:
    """Fold an `update` object into plain field values plus the comment bodies it adds.

    Supports `set` for any field, `add`/`remove` for labels and `add` for comments, which is
    what Jira's edit and transition calls accept for those fields.
    """
    if not isinstance(update, dict):
        raise ApiError(400, ["The 'update' value must be an object of operation lists."])
    fields: dict[str, Any] = {}
    comments: list[Any] = []
    labels = list(issue.labels)
    for name, operations in update.items():
        if not isinstance(operations, list):
            raise ApiError(400, [], {name: "Operations must be an array."})
        for operation in operations:
            verb, value = _single_operation(name, operation)
            if name == "comment" and verb == "add":
                comments.append(value.get("body") if isinstance(value, dict) else value)
            elif name == "labels" and verb in ("add", "remove"):
                labels = _change_labels(labels, verb, value)
                fields["labels"] = labels
            elif verb == "set":
                fields[name] = value
            else:
                raise ApiError(400, [], {name: f"Operation '{verb}' is not supported here."})
    return fields, comments


def _single_operation(name: str, operation: object) -> tuple[str, Any]:
    if not isinstance(operation, dict) or len(operation) != 1:
        raise ApiError(400, [], {name: "Each operation must be an object with one verb."})
    ((verb, value),) = operation.items()
    return str(verb), value


def _change_labels(labels: list[str], verb: str, value: object) -> list[str]:
    if not isinstance(value, str):
        raise ApiError(400, [], {"labels": "Label operations take a string."})
    if verb == "add":
        return labels if value in labels else [*labels, value]
    return [label for label in labels if label != value]
