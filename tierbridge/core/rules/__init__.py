"""Escalation rules: conditions on a ticket, its tier and its SLA clocks, and the actions
they take (escalate, return to a lower tier, set fields, add a note, notify a webhook).

`models` is the config schema, `conditions` decides which rules hold, `engine` decides
which of them fire and runs their actions, `routing` moves tickets between tiers.
"""
