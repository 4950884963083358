"""Turn the phases of a run into `latest.json`: the headline keys, then the detail."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.phases import PhaseResult

__all__ = ["REQUIRED_KEYS", "build_results", "machine", "rss_summary", "write_results"]

#: Keys every results file has, each a number (NaN, written as null, when not measured).
REQUIRED_KEYS = (
    "e2e_p50_ms",
    "e2e_p99_ms",
    "ack_p99_ms",
    "changes_per_s",
    "writes_per_change",
    "reads_per_change",
    "echo_writes",
    "rss_mb_max",
    "rss_growth_pct",
    "floor_ratio_throughput",
)


def machine() -> dict[str, Any]:
    """CPU count and model and the Python version of this machine."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def rss_summary(
    samples: Sequence[tuple[float, float]], soak: tuple[float, float]
) -> tuple[float, float]:
    """Return the largest RSS in MiB over all samples and the growth in % over the soak.

    `samples` are (time, MiB) pairs and `soak` the (start, end) times of the soak. Growth
    compares the median of the soak's last fifth of samples with the median of its first
    fifth, so one noisy sample moves it little.
    """
    if not samples:
        return math.nan, math.nan
    largest = max(mb for _, mb in samples)
    start, end = soak
    during = [mb for at, mb in samples if start <= at <= end]
    if len(during) < 2:
        return largest, math.nan
    fifth = max(1, len(during) // 5)
    first = statistics.median(during[:fifth])
    last = statistics.median(during[-fifth:])
    return largest, (last - first) / first * 100


def _ratio(numerator: float, denominator: float) -> float:
    if not (math.isfinite(numerator) and math.isfinite(denominator)) or denominator == 0:
        return math.nan
    return round(numerator / denominator, 3)


def _figures(phases: dict[str, PhaseResult], name: str) -> dict[str, Any]:
    phase = phases.get(name)
    return phase.summary() if phase is not None else {}


def _nan_get(figures: dict[str, Any], key: str) -> float:
    value = figures.get(key, math.nan)
    return float(value) if isinstance(value, int | float) else math.nan


def build_results(
    phases: dict[str, PhaseResult],
    *,
    rss: tuple[float, float],
    settings: dict[str, Any],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """Build the results document; the headline comes from the steady and burst phases.

    `phases` contains the daemon's `light`, `steady` and `burst` phases and, unless the floor
    was skipped, `floor_light`, `floor_steady` and `floor_burst`. Ratios are daemon / floor.
    """
    light, steady, burst = (_figures(phases, name) for name in ("light", "steady", "burst"))
    floor = {name: _figures(phases, f"floor_{name}") for name in ("light", "steady", "burst")}
    echo_writes = sum(
        phase.calls.echo_writes for name, phase in phases.items() if not name.startswith("floor")
    )
    largest, growth = rss
    return {
        "e2e_p50_ms": steady["e2e_p50_ms"],
        "e2e_p99_ms": steady["e2e_p99_ms"],
        "e2e_p999_ms": steady["e2e_p999_ms"],
        "ack_p99_ms": steady["ack_p99_ms"],
        "light_e2e_p50_ms": light["e2e_p50_ms"],
        "light_e2e_p99_ms": light["e2e_p99_ms"],
        "changes_per_s": burst["changes_per_s"],
        "cpu_cores_at_max": burst["cpu_cores"],
        "cpu_ms_per_change": burst["cpu_ms_per_change"],
        "burst_drain_s": burst["drain_s"],
        "writes_per_change": light["writes_per_change"],
        "reads_per_change": light["reads_per_change"],
        "echo_writes": echo_writes,
        "rss_mb_max": round(largest, 1) if math.isfinite(largest) else math.nan,
        "rss_growth_pct": round(growth, 2) if math.isfinite(growth) else math.nan,
        "floor_ratio_throughput": _ratio(
            _nan_get(burst, "changes_per_s"), _nan_get(floor["burst"], "changes_per_s")
        ),
        "floor_ratio_e2e_p50": _ratio(
            _nan_get(steady, "e2e_p50_ms"), _nan_get(floor["steady"], "e2e_p50_ms")
        ),
        "floor_ratio_light_e2e_p50": _ratio(
            _nan_get(light, "e2e_p50_ms"), _nan_get(floor["light"], "e2e_p50_ms")
        ),
        "load_average_1m_max": round(
            max((phase.load_average for phase in phases.values()), default=math.nan), 2
        ),
        "settled": all(phase.settled for phase in phases.values()),
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        **settings,
        "phases": {name: phase.summary() for name, phase in phases.items()},
        **extra,
    }


def write_results(results: dict[str, Any], path: Path) -> None:
    """Write `results` as JSON; NaN, which JSON lacks, is written as null."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_nan_to_none(results), indent=2, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(item) for item in value]
    return value
