"""SLA clocks on business calendars, and the timers that fire at their deadlines.

`calendar` counts business time, and `clock` keeps one response or resolution clock.
`tracker` moves a ticket's clocks as its status changes. `timers` arms the store's timers
and turns a due timer into an inbox event, so a time-based rule fires at the deadline.
"""
