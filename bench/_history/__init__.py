"""Parts of the history checker (`python -m bench.history`).

`world` starts the emulators and builds runtimes, `actors` are the people who work in each
system (one module per system: `servicenow`, `jira`, `salesforce` and `dynamics`),
`deliveries` carries their webhooks with faults, `journal` records every write the
emulators accept, `scenario` plays one seed and `oracle` judges the result.
"""
