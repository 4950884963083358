"""Benchmarks and robustness runs that drive the daemon as a separate process.

Run them from the repository root: `python -m bench` runs the throughput and latency
benchmark, and `python -m bench.crash --kills 20` the crash-safety run.
"""
