"""Runners other than the embedded one: procrastinate jobs on PostgreSQL, for several nodes.

`procrastinate_app` builds the procrastinate App with one task per unit of work, and
`worker` contains the entry points of `tierbridge worker` and of `tierbridge run` with
`runner: procrastinate`. This package's `__init__` and `settings` import no procrastinate,
so the config loader can read the runner's settings cheaply.
"""
