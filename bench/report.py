"""One result format for every benchmark: metric, value, unit, reference, ratio, goal."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

LATEST = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass
class Result:
    metric: str
    value: float
    unit: str
    reference: float | None = None  # what the value is compared with (e.g. Kafka's own tool)
    reference_name: str | None = None
    goal: str | None = None  # e.g. ">= 0.8x reference"
    met: bool | None = None  # None when there is no goal
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return round(self.value / self.reference, 3) if self.reference else None


def machine() -> dict[str, object]:
    mem = 0
    try:
        with open("/proc/meminfo") as fh:
            mem = int(fh.readline().split()[1]) // 1024 // 1024
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": mem,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def write(results: list[Result], suite: str) -> None:
    """Replace this suite's results in latest.json, keeping the other suites'."""
    doc = json.loads(LATEST.read_text()) if LATEST.exists() else {"suites": {}}
    doc["machine"] = machine()
    doc.setdefault("suites", {})[suite] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        # Other work on the same 2 cores shows here: numbers at load 8 are not quiet numbers.
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "results": [{**asdict(r), "ratio": r.ratio} for r in results],
    }
    LATEST.parent.mkdir(parents=True, exist_ok=True)
    LATEST.write_text(json.dumps(doc, indent=2) + "\n")


def table(results: list[Result]) -> str:
    rows = [("metric", "value", "unit", "reference", "ratio", "goal", "met")]
    for r in results:
        met = "" if r.met is None else ("yes" if r.met else "MISSED")
        ref = f"{r.reference:,.0f} ({r.reference_name})" if r.reference else ""
        rows.append(
            (r.metric, f"{r.value:,.1f}", r.unit, ref, str(r.ratio or ""), r.goal or "", met)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def markdown(doc: dict[str, object]) -> str:
    """latest.json as the README's table: every result with a goal, then the rest per suite."""
    rows = ["| suite | metric | value | reference | ratio | goal | met | run (load) |"]
    rows.append("| --- " * 8 + "|")
    suites: dict[str, dict[str, object]] = doc["suites"]  # type: ignore[assignment]
    for name, suite in suites.items():
        results: list[dict[str, object]] = suite["results"]  # type: ignore[assignment]
        load: list[float] | None = suite.get("load_avg_1_5_15")  # type: ignore[assignment]
        date = str(suite["date"])[:16].replace("T", " ") + (f" ({load[1]:g})" if load else "")
        for r in sorted(results, key=lambda r: r["goal"] is None):
            met = "" if r["met"] is None else ("yes" if r["met"] else "**MISSED**")
            ref = f"{r['reference']:,.0f} ({r['reference_name']})" if r["reference"] else ""
            value = f"{r['value']:,.1f} {r['unit']}"
            rows.append(
                f"| {name} | {r['metric']} | {value} | {ref} | {r['ratio'] or ''} "
                f"| {r['goal'] or ''} | {met} | {date} |"
            )
    return "\n".join(rows)
