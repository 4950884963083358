"""The logic behind the operator's commands and the status page.

Each module serves one command (`schema`, `validate --live`, `preview`, `plan`, `log`,
`status`, `backfill`) and returns plain values, so the command modules in
`tierbridge.core.commands` only parse arguments and print, and the status page reuses the
same queries.
"""
