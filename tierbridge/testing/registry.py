"""The connectors the contract suite runs against, by system name.

The four bundled systems register themselves when `tierbridge.testing` is imported. A
connector kept outside this package joins the suite by calling `register` from a pytest
plugin or `conftest.py` that loads before the suite is collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierbridge.testing.adapter import ContractAdapter

__all__ = ["adapter", "adapters", "register"]

_ADAPTERS: dict[str, ContractAdapter] = {}


def register(contract: ContractAdapter) -> None:
    """Add a system to the suite; registering the same system again replaces its adapter."""
    _ADAPTERS[contract.system] = contract


def adapters() -> list[ContractAdapter]:
    """Return every registered adapter, sorted by system name."""
    return [_ADAPTERS[name] for name in sorted(_ADAPTERS)]


def adapter(system: str) -> ContractAdapter:
    """Return the adapter of `system`; raise KeyError naming the registered systems."""
    try:
        return _ADAPTERS[system]
    except KeyError:
        known = ", ".join(sorted(_ADAPTERS)) or "none"
        msg = f"no contract adapter for system {system!r}; registered: {known}"
        raise KeyError(msg) from None
