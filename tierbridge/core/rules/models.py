"""The `rules:` config section: an ordered list of escalation rules.

```yaml
rules:
  - name: major-incident
    when: {tier: L1, priority: [P1, P2]}
    then: [{escalate: L2}, {note: Escalated as a major incident.}]
  - name: l2-resolution-breach
    when: {tier: L2, sla: {resolution: breached}}
    then:
      - escalate: L3
      - notify: {url: "https://hooks.example.com/sla", secret: {env: SLA_HOOK_SECRET}}
    continue: true
```

Every key of `when` must hold (and), and a list matches any of its values (or). `unless`
contains conditions that must not all hold. The first rule whose conditions hold wins, unless it has
`continue: true`, in which case the next rules are tried too. A rule fires when its
conditions start to hold for a ticket, and again only after they stopped holding in between.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    RootModel,
    field_validator,
    model_validator,
)

from tierbridge.core.model import Priority, Status, Ticket, Tier
from tierbridge.core.secrets import SecretRef
from tierbridge.core.sla.settings import Duration

__all__ = [
    "Action",
    "Conditions",
    "CountRange",
    "DurationRange",
    "NotifySettings",
    "Rule",
    "RuleList",
    "SlaThreshold",
]

RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PERCENT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")
#: Fields a `set` action may write: the canonical fields that a person edits.
SETTABLE_FIELDS = frozenset(
    {"title", "status", "priority", "impact", "urgency", "category", "subcategory"}
    | {"assignment_group", "assignee", "resolution_code", "resolution_notes"}
)


def _as_list(value: Any) -> Any:
    return (
        [value] if isinstance(value, str | int | float) and not isinstance(value, bool) else value
    )


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CountRange(_Frozen):
    """Bounds on a count; each bound is inclusive and optional."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    def contains(self, value: int) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class DurationRange(_Frozen):
    """Bounds on a duration, written as `4h` or `30m`; each bound is inclusive and optional."""

    min: Duration | None = None
    max: Duration | None = None

    def contains(self, seconds: float) -> bool:
        return (self.min is None or seconds >= self.min) and (
            self.max is None or seconds <= self.max
        )


class SlaThreshold(RootModel[str]):
    """`breached`, or a share of the target such as `75%`."""

    @field_validator("root")
    @classmethod
    def _valid(cls, value: str) -> str:
        text = str(value).strip()
        if text == "breached":
            return text
        match = _PERCENT.fullmatch(text)
        if match is None or not 0 < float(match.group(1)) <= 100:
            msg = f"invalid SLA state {value!r}; write breached or a percentage such as 75%"
            raise ValueError(msg)
        return text

    @property
    def percent(self) -> float:
        """The share of the target this threshold stands for; `breached` is 100."""
        match = _PERCENT.fullmatch(self.root)
        return 100.0 if match is None else float(match.group(1))


class SlaCondition(_Frozen):
    """Per clock: `breached`, or the share of the target that must have elapsed."""

    response: SlaThreshold | None = None
    resolution: SlaThreshold | None = None


_Texts = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_as_list)]


class Conditions(_Frozen):
    """A rule's conditions. Each key is optional, and every key given must hold."""

    tier: Annotated[tuple[Tier, ...], BeforeValidator(_as_list)] = ()
    priority: Annotated[tuple[Priority, ...], BeforeValidator(_as_list)] = ()
    status: Annotated[tuple[Status, ...], BeforeValidator(_as_list)] = ()
    category: _Texts = ()
    subcategory: _Texts = ()
    assignment_group: _Texts = ()
    #: Words or phrases looked for in the title and the description, ignoring case.
    keywords: _Texts = ()
    #: Time since the ticket was opened, in wall-clock time.
    age: DurationRange | None = None
    sla: SlaCondition | None = None
    reopen_count: CountRange | None = None
    reassignment_count: CountRange | None = None
    #: Names of the connectors the ticket comes from (keys under `connectors:`).
    connector: _Texts = ()
    #: Systems the ticket comes from: servicenow, jira, salesforce, dynamics.
    system: _Texts = ()
    unless: Conditions | None = None


class NotifySettings(_Frozen):
    """An outgoing webhook: a JSON body signed with HMAC-SHA256 under `secret`."""

    url: HttpUrl
    secret: SecretRef
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _https_or_loopback(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme == "https" or value.host in ("127.0.0.1", "localhost", "::1"):
            return value
        msg = f"notify url must use https, got {value.scheme}:// (plain http is allowed only to 127.0.0.1)"
        raise ValueError(msg)


class Action(_Frozen):
    """One step of a rule; exactly one key is given."""

    #: Create (or reopen) the ticket's counterpart in this tier's system.
    escalate: Tier | None = None
    #: Hand the ticket back down: to the tier it came from (`previous`) or to a named tier.
    return_to: Literal["previous"] | Tier | None = None
    #: Canonical field values to write on the ticket the rule evaluated.
    set: dict[str, Any] | None = None
    #: Internal note added to the ticket the rule evaluated; never customer-visible.
    note: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    notify: NotifySettings | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            keys = ", ".join(type(self).model_fields)
            msg = f"an action needs exactly one of {keys}; got {', '.join(given) or 'none'}"
            raise ValueError(msg)
        return self

    @field_validator("set")
    @classmethod
    def _settable(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if not value:
            msg = "set needs at least one field"
            raise ValueError(msg)
        unknown = sorted(set(value) - SETTABLE_FIELDS)
        if unknown:
            msg = f"set cannot write {unknown[0]!r}; settable fields: {', '.join(sorted(SETTABLE_FIELDS))}"
            raise ValueError(msg)
        Ticket.model_validate({"ref": {"connector": "check", "id": "check"}, **value})
        return value

    @property
    def kind(self) -> str:
        """The name of the one key given."""
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class Rule(_Frozen):
    """One escalation rule: a name, conditions and the actions it takes when it fires."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100)
    description: str | None = None
    when: Conditions = Conditions()
    then: tuple[Action, ...]
    #: Try the next rules too after this one holds; by default the first rule that holds wins.
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("then")
    @classmethod
    def _some_action(cls, value: tuple[Action, ...]) -> tuple[Action, ...]:
        if not value:
            msg = "a rule needs at least one action under 'then'"
            raise ValueError(msg)
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not RULE_NAME.fullmatch(value):
            msg = f"invalid rule name {value!r}; use letters, digits, '.', '-' and '_'"
            raise ValueError(msg)
        return value


class RuleList(RootModel[tuple[Rule, ...]]):
    """The `rules:` section, in the order they are tried."""

    root: tuple[Rule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        """Read an empty `rules:` key as no rules."""
        return () if value is None or value == {} else value

    def __iter__(self) -> Iterator[Rule]:  # type: ignore[override]
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)
