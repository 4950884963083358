"""The sync engine: one inbox event in, confirmed writes to the linked tickets out."""

from tierbridge.core.engine.process import MAX_EVENT_ATTEMPTS, handle_event

__all__ = ["MAX_EVENT_ATTEMPTS", "handle_event"]
