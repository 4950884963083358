"""Subcommands of `tierbridge`, one module each.

Each public module defines `register(commands)`, which adds its subparsers to the
`argparse` subparser group and sets `func` to a function taking the parsed arguments and
returning the exit status. Modules import heavy dependencies inside those functions, so
`tierbridge --help` stays fast.
"""
