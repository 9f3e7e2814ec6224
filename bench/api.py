"""Issue 5: the REST API (lambda_api) over a lake of synthetic trips.

1. A lake of N trips over 30 days, written as the stream writes it (spark.lake.write_table):
   trips, their 5-minute zone_metrics partial aggregates and a few dead letters; generated in
   chunks of consecutive days straight to Parquet and cached under .local/bench/api-lake/<N>.
2. Embedded: ``python -m lambda_api`` (uvicorn, DuckDB) on a free port; per dashboard endpoint,
   sequential requests with varied time ranges (so the TTL cache, keyed by the SQL text, mostly
   misses): p50/p99. Then a sustained mix from concurrent clients (60 s at full scale): req/s,
   and errors (any non-2xx answer or transport failure; goal 0). Peak RSS.
3. Through the twin: the Lambda zip deployed by Terraform (envs/local on the bench twin), a
   small lake uploaded where the Glue tables point; p50/p99 per endpoint via its API Gateway.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
from pydantic_settings import BaseSettings, SettingsConfigDict

from bench.infra import BENCH_DIR, ROOT, Lake, lake, log
from bench.procs import PeakRss
from bench.report import Result
from contract.rules import REASONS
from contract.tables import DEAD_LETTERS, TABLES, TRIPS, ZONE_METRICS
from lambda_api.build import BuildSettings, build
from lambda_api.config import ApiSettings
from lambda_api.engines import PROGRESS_KEY
from lambda_api.zones import boroughs, zones
from producer.synthetic import Profile, SyntheticTrips
from spark.lake import LakeTarget, put_json, write_table

LAKES = BENCH_DIR / "api-lake"
WORK = BENCH_DIR / "api"
LAYOUT = 1  # bump when the generated lake changes: cached lakes of another layout are rebuilt
GOAL_P99_MS = 100.0
GOAL_RPS = 200.0
GRID_S = 300  # zone_metrics' 5-minute window
CARD = 1


class ApiBenchSettings(BaseSettings):
    """Sizes of this suite; env vars ``BENCH_API_*``."""

    model_config = SettingsConfigDict(env_prefix="BENCH_API_")

    trips_full: int = 10_000_000
    trips_small: int = 200_000
    # The twin's Athena scans every object of a table on every query: keep its lake small.
    trips_twin: int = 200_000
    days: int = 30
    chunk: int = 1_000_000
    seed: int = 5
    requests: int = 200  # per endpoint, embedded
    twin_requests: int = 30  # per endpoint, through API Gateway + Lambda
    warmup: int = 3  # untimed requests per endpoint first
    sustained_s_full: float = 60
    sustained_s_small: float = 15
    concurrency: int = 8
    shared_views: int = 64


# ---- the lake --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LakeInfo:
    root: Path
    trips: int
    start: datetime  # first pickup day, 00:00 UTC
    end: datetime  # exclusive
    sample_trips: list[tuple[str, str]]  # (trip_id, pickup date) for /v1/trips/{id}
    zone_metrics_rows: int
    dead_letters: int
    files: int


def _dt_hour(ts: pa.Array) -> tuple[pa.Array, pa.Array]:
    """UTC date and hour text of instants (a cast to naive text is far quicker than strftime)."""
    text = pc.cast(pc.cast(ts, pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s")), pa.string())
    return pc.utf8_slice_codeunits(text, 0, 10), pc.utf8_slice_codeunits(text, 11, 13)


def _epoch_s(ts: pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(ts, pa.timestamp("s", tz="UTC")).cast(pa.int64()).to_numpy())


def _trips_chunk(
    gen: SyntheticTrips, n: int, start: datetime, end: datetime, offset: int
) -> pa.Table:
    """n trips picked up in [start, end) as rows of the trips table (what the stream writes)."""
    cols = dict(gen.columns(n, gen.backfill_ends(n, start, end)))
    out: dict[str, pa.Array] = {}
    for name, col in cols.items():
        if isinstance(col, pa.Array):
            out[name] = col
        else:
            out[name] = pa.nulls(n) if col is None else pa.repeat(pa.scalar(col), n)
    for name in ("pickup_at", "dropoff_at"):
        parsed = pc.strptime(out[name], format="%Y-%m-%dT%H:%M:%SZ", unit="s")
        out[name] = pc.cast(pc.assume_timezone(parsed, "UTC"), pa.timestamp("us", tz="UTC"))
    known = zones()
    borough = pa.array([known[i].borough if i in known else None for i in range(266)])
    zone = pa.array([known[i].zone if i in known else None for i in range(266)])
    for side in ("pickup", "dropoff"):
        ids = out[f"{side}_zone_id"]
        out[f"{side}_borough"] = borough.take(ids)
        out[f"{side}_zone"] = zone.take(ids)
    pick, drop = _epoch_s(out["pickup_at"]), _epoch_s(out["dropoff_at"])
    out["duration_s"] = pa.array(drop - pick)
    out["kafka_partition"] = pa.array(gen.rng.integers(0, 3, n), pa.int32())
    out["kafka_offset"] = pa.array(np.arange(offset, offset + n))
    lag_us = gen.rng.integers(1_000_000, 8_000_000, n)  # Kafka timestamp a few s after dropoff
    out["ingested_at"] = pa.array((drop * 1_000_000 + lag_us), pa.timestamp("us", tz="UTC"))
    out["dt"], out["hour"] = _dt_hour(out["pickup_at"])
    return pa.table(out)


ZONE_METRICS_SQL = f"""
SELECT
  window_start, service, pickup_zone_id, pickup_borough,
  COUNT(*) AS trips,
  SUM(COALESCE(passenger_count, 0)) AS passengers,
  SUM(total_amount) AS revenue,
  SUM(fare_amount) AS fare_sum,
  SUM(trip_distance) AS distance_sum,
  SUM(duration_s) AS duration_s_sum,
  SUM(CASE WHEN payment_type = {CARD} THEN COALESCE(tip_amount, 0) ELSE 0 END) AS card_tip_sum,
  SUM(CASE WHEN payment_type = {CARD} THEN fare_amount ELSE 0 END) AS card_fare_sum,
  $batch_id AS batch_id
FROM chunk
GROUP BY ALL
"""


def _zone_metrics(trips: pa.Table, batch_id: int) -> pa.Table:
    """spark.transforms.zone_metrics on DuckDB: sums per 5-minute pickup window x service x zone."""
    secs = _epoch_s(trips["pickup_at"].combine_chunks())
    window = pa.array((secs - secs % GRID_S) * 1_000_000, pa.timestamp("us", tz="UTC"))
    chunk = trips.select(
        [
            "service",
            "pickup_zone_id",
            "pickup_borough",
            "passenger_count",
            "total_amount",
            "fare_amount",
            "trip_distance",
            "duration_s",
            "payment_type",
            "tip_amount",
        ]
    ).append_column("window_start", window)
    con = duckdb.connect()
    # A connection setting: DuckDB 1.5 refuses it in connect(config=) ("not a global option").
    con.execute("SET enable_progress_bar = false")
    con.register("chunk", chunk)
    agg = con.execute(ZONE_METRICS_SQL, {"batch_id": batch_id}).to_arrow_table()
    con.close()
    dt, hour = _dt_hour(agg["window_start"].combine_chunks())
    return agg.append_column("dt", dt).append_column("hour", hour)


def _dead_letters(rng: np.random.Generator, n: int, start: datetime, end: datetime) -> pa.Table:
    """Rejected records with one or two reasons each, ingested over [start, end)."""
    reasons = sorted(REASONS)
    at = rng.integers(int(start.timestamp()), int(end.timestamp()), n) * 1_000_000
    picked = [
        [reasons[i] for i in sorted(set(rng.integers(0, len(reasons), rng.integers(1, 3))))]
        for _ in range(n)
    ]
    ingested = pa.array(at, pa.timestamp("us", tz="UTC"))
    dt, _ = _dt_hour(ingested)
    return pa.table(
        {
            "raw_value": pa.array([f'{{"fare_amount": -{i % 50}, "n": {i}}}' for i in range(n)]),
            "trip_id": pa.nulls(n, pa.string()),
            "reasons": pa.array(picked, pa.list_(pa.string())),
            "topic": pa.repeat(pa.scalar("trips"), n),
            "kafka_partition": pa.array(rng.integers(0, 3, n), pa.int32()),
            "kafka_offset": pa.array(rng.integers(0, 10**9, n)),
            "ingested_at": ingested,
            "dt": dt,
        }
    )


def _lake_end() -> datetime:
    """Today 00:00 UTC: the lake's last day is yesterday, so "the last 24 h" overlaps it."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def build_lake(n: int, cfg: ApiBenchSettings) -> LakeInfo:
    """The lake of n trips (cached by n and LAYOUT: generation takes minutes at 10M)."""
    root = LAKES / str(n)
    manifest = root / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        if m.get("layout") == LAYOUT and m.get("trips") == n:
            log(f"reusing the lake of {n:,} trips in {root} (built {m['built_at']})")
            return _info(root, m)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    t0 = time.monotonic()
    end = _lake_end()
    start = end - timedelta(days=cfg.days)
    # Consecutive day ranges, one per micro-batch, as a stream over 30 days would have written.
    # Whole days per chunk: backfill_ends spreads pickups over whole days.
    fewest = min(-(-n // cfg.chunk), cfg.days)
    chunks = next(c for c in range(fewest, cfg.days + 1) if cfg.days % c == 0)
    per_days = cfg.days // chunks
    gen = SyntheticTrips(Profile.load(), seed=cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    target = LakeTarget(uri=root.as_uri())
    samples: list[tuple[str, str]] = []
    zm_rows = dead_rows = files = written = 0
    for i in range(chunks):
        size = n // chunks + (1 if i < n % chunks else 0)
        lo = start + timedelta(days=i * per_days)
        hi = lo + timedelta(days=per_days)
        trips = _trips_chunk(gen, size, lo, hi, written)
        written += size
        pick = rng.choice(size, size=min(size, 200), replace=False)
        samples += zip(
            trips["trip_id"].take(pick).to_pylist(),
            trips["dt"].take(pick).to_pylist(),
            strict=True,
        )
        metrics = _zone_metrics(trips, i)
        dead = _dead_letters(rng, max(1, size // 1000), lo, hi)
        tag = "bench"
        files += len(write_table(trips, TRIPS, target, i, tag, order=("pickup_at", "trip_id")))
        files += len(write_table(metrics, ZONE_METRICS, target, i, tag, order=("window_start",)))
        files += len(write_table(dead, DEAD_LETTERS, target, i, tag))
        zm_rows += metrics.num_rows
        dead_rows += dead.num_rows
        log(f"lake {n:,}: chunk {i + 1}/{chunks} ({written:,} trips) {time.monotonic() - t0:.0f} s")
    last = end - timedelta(seconds=1)
    put_json(
        target,
        PROGRESS_KEY,
        {
            "batch_id": chunks - 1,
            "trigger_at": last.isoformat(),
            "rows_in": n // chunks,
            "accepted": n // chunks,
            "rejected": dead_rows // chunks,
            "duplicates_dropped": 0,
            "batch_ms": 900,
            "kafka_lag": 0,
        },
    )
    m = {
        "layout": LAYOUT,
        "trips": n,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "samples": samples,
        "zone_metrics_rows": zm_rows,
        "dead_letters": dead_rows,
        "files": files,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_s": round(time.monotonic() - t0, 1),
    }
    manifest.write_text(json.dumps(m) + "\n")
    log(f"lake {n:,}: {files} files, {zm_rows:,} zone_metrics rows in {m['build_s']} s")
    return _info(root, m)


def _info(root: Path, m: dict[str, Any]) -> LakeInfo:
    return LakeInfo(
        root=root,
        trips=m["trips"],
        start=datetime.fromisoformat(m["start"]),
        end=datetime.fromisoformat(m["end"]),
        sample_trips=[(a, b) for a, b in m["samples"]],
        zone_metrics_rows=m["zone_metrics_rows"],
        dead_letters=m["dead_letters"],
        files=m["files"],
    )


# ---- requests --------------------------------------------------------------------------------

Request = tuple[str, dict[str, Any]]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Requests:
    """Varied dashboard requests inside the lake's range: ends on random 5-minute marks (the
    aggregate grid), so equal SQL text, and thus a cache hit, is rare."""

    def __init__(self, info: LakeInfo, seed: int) -> None:
        self.info = info
        self.rnd = random.Random(seed)
        self.boroughs = [b for b in boroughs() if b not in ("Unknown", "N/A", "EWR")]
        self.zone_ids = sorted(z for z in zones() if z <= 263)

    def _range(self, span: timedelta) -> dict[str, str]:
        first = self.info.start + span
        slots = int((self.info.end - first).total_seconds() // GRID_S)
        end = first + timedelta(seconds=GRID_S * self.rnd.randrange(slots + 1))
        return {"start": _iso(end - span), "end": _iso(end)}

    def _scope(self) -> dict[str, str]:
        r = self.rnd.random()
        if r < 0.5:
            return {}
        if r < 0.75:
            return {"service": self.rnd.choice(("yellow", "green"))}
        return {"borough": self.rnd.choice(self.boroughs)}

    def status(self) -> Request:
        return "/v1/status", {"minutes": self.rnd.randrange(1, 1441)}

    def summary(self) -> Request:
        span = self.rnd.choice((HOUR, 3 * HOUR, DAY, 7 * DAY))
        return "/v1/summary", {**self._range(span), **self._scope()}

    def timeseries_5m(self) -> Request:
        span = self.rnd.choice((3 * HOUR, DAY))
        group = self.rnd.choice(("none", "service", "borough"))
        return "/v1/timeseries", {
            **self._range(span),
            "interval": "5m",
            "group_by": group,
            **self._scope(),
        }

    def timeseries_1h(self) -> Request:
        span = self.rnd.choice((DAY, 7 * DAY, 30 * DAY))
        group = self.rnd.choice(("service", "borough"))
        return "/v1/timeseries", {**self._range(span), "interval": "1h", "group_by": group}

    def zones_top(self) -> Request:
        span = self.rnd.choice((DAY, 7 * DAY, 30 * DAY))
        metric = self.rnd.choice(("pickups", "revenue", "avg_fare"))
        return "/v1/zones/top", {**self._range(span), "metric": metric, "limit": 265}

    def zone_profile(self) -> Request:
        span = self.rnd.choice((DAY, 7 * DAY))
        return f"/v1/zones/{self.rnd.choice(self.zone_ids)}", self._range(span)

    def dead_letters(self) -> Request:
        span = self.rnd.choice((DAY, 7 * DAY, 30 * DAY))
        return "/v1/quality/dead-letters", {
            **self._range(span),
            "interval": "1h" if span <= DAY else "1d",
        }

    def samples(self) -> Request:
        return "/v1/quality/samples", {**self._range(self.rnd.choice((DAY, 7 * DAY))), "limit": 20}

    def trips_page(self) -> Request:
        span = self.rnd.choice((HOUR, 6 * HOUR, DAY))
        return "/v1/trips", {**self._range(span), "limit": 100, **self._scope()}

    def trip_by_id(self) -> Request:
        trip_id, day = self.rnd.choice(self.info.sample_trips)
        return f"/v1/trips/{trip_id}", {"date": day}


ENDPOINTS: dict[str, Callable[[Requests], Request]] = {
    "status": Requests.status,
    "summary": Requests.summary,
    "timeseries 5m": Requests.timeseries_5m,
    "timeseries 1h": Requests.timeseries_1h,
    "zones/top": Requests.zones_top,
    "zone profile": Requests.zone_profile,
    "quality/dead-letters": Requests.dead_letters,
    "quality/samples": Requests.samples,
    "trips page": Requests.trips_page,
    "trip by id": Requests.trip_by_id,
}
# The sustained mix: one dashboard refresh is mostly summaries (KPIs vs the period before) and
# series, with the status poll; zone and quality views and raw reads are rarer.
MIX: dict[str, int] = {
    "status": 2,
    "summary": 6,
    "timeseries 5m": 2,
    "timeseries 1h": 1,
    "zones/top": 1,
    "zone profile": 1,
    "quality/dead-letters": 1,
    "quality/samples": 1,
    "trips page": 1,
    "trip by id": 1,
}


def _key(req: Request) -> str:
    return req[0] + "?" + "&".join(f"{k}={v}" for k, v in sorted(req[1].items()))


def _ok(status: int) -> bool:
    """Every request the suite sends is valid and names existing trips and zones: anything but
    a 2xx is an error (0: a transport failure)."""
    return 200 <= status < 300


def _get(client: httpx.Client, req: Request) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = client.get(req[0], params=req[1])
    ms = (time.perf_counter() - t0) * 1000
    if not _ok(r.status_code):
        log(f"{r.status_code} for {_key(req)}: {r.text[:300]}")
    return ms, r.status_code


@dataclass
class Latencies:
    name: str
    ms: list[float]
    errors: int
    distinct: int

    def q(self, p: float) -> float:
        return float(np.percentile(self.ms, p)) if self.ms else float("nan")


def measure(client: httpx.Client, reqs: Requests, count: int, warmup: int) -> list[Latencies]:
    out = []
    for name, make in ENDPOINTS.items():
        for _ in range(warmup):
            _get(client, make(reqs))
        batch = [make(reqs) for _ in range(count)]
        ms, errors = [], 0
        for req in batch:
            took, status = _get(client, req)
            ms.append(took)
            errors += not _ok(status)
        lat = Latencies(name, ms, errors, len({_key(r) for r in batch}))
        log(
            f"  {name:22s} p50 {lat.q(50):7.1f} ms  p99 {lat.q(99):7.1f} ms  max {max(ms):7.1f}"
            f"  errors {errors}  distinct {lat.distinct}/{count}"
        )
        out.append(lat)
    return out


@dataclass
class Sustained:
    done: int
    errors: int
    wall_s: float
    ms: list[float]
    hits: int  # requests answered from the API's TTL cache (estimated from the keys sent)
    statuses: dict[int, int]  # status -> requests; 0: transport failure

    @property
    def error_text(self) -> str:
        bad = {k: v for k, v in sorted(self.statuses.items()) if not _ok(k)}
        return ", ".join(f"{k or 'transport'}: {v}" for k, v in bad.items()) or "none"

    @property
    def rps(self) -> float:
        return self.done / self.wall_s

    @property
    def hit_share(self) -> float:
        return self.hits / self.done if self.done else 0.0

    def q(self, p: float) -> float:
        return float(np.nanpercentile(self.ms, p)) if self.ms else float("nan")


def sustained(
    base_url: str, make: Callable[[], Request], seconds: float, workers: int, ttl_s: float
) -> Sustained:
    """``workers`` clients, each sending requests from ``make`` back to back for ``seconds``."""
    lock = threading.Lock()
    lat: list[float] = []
    cached_at: dict[str, float] = {}  # key -> when its answer entered the cache (a miss ended)
    statuses: Counter[int] = Counter()
    errors = hits = 0
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors, hits
        with httpx.Client(base_url=base_url, timeout=30, trust_env=False) as c:
            while time.monotonic() < deadline:
                with lock:
                    req = make()
                key = _key(req)
                sent = time.monotonic()
                try:
                    ms, status = _get(c, req)
                except httpx.HTTPError as exc:
                    log(f"sustained: {exc!r}")
                    ms, status = float("nan"), 0
                with lock:
                    lat.append(ms)
                    statuses[status] += 1
                    errors += not _ok(status)
                    at = cached_at.get(key)
                    if at is not None and sent - at < ttl_s:
                        hits += 1
                    else:
                        cached_at[key] = time.monotonic()

    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        for f in [pool.submit(worker) for _ in range(workers)]:
            f.result()
    return Sustained(len(lat), errors, time.monotonic() - t0, lat, hits, dict(statuses))


# ---- embedded --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited ({proc.returncode}); see {WORK / 'uvicorn.log'}")
        try:
            if httpx.get(f"{url}/health", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer /health in {timeout_s:.0f} s")


def _p99_result(lat: Latencies, where: str, goal: bool, note: str) -> list[Result]:
    return [
        Result(f"api {where} {lat.name} p50", lat.q(50), "ms", note=note),
        Result(
            f"api {where} {lat.name} p99",
            lat.q(99),
            "ms",
            goal=f"<= {GOAL_P99_MS:.0f} ms" if goal else None,
            met=(lat.errors == 0 and lat.q(99) <= GOAL_P99_MS) if goal else None,
            note=f"{note}; errors {lat.errors}",
        ),
    ]


def embedded(info: LakeInfo, cfg: ApiBenchSettings, seconds: float) -> list[Result]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "API_ENGINE": "duckdb",
        "API_LAKE_URI": info.root.as_uri(),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
    }
    WORK.mkdir(parents=True, exist_ok=True)
    log_file = WORK / "uvicorn.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lambda_api"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    results: list[Result] = []
    try:
        with PeakRss(proc.pid) as rss:
            _wait_healthy(url, proc)
            log(f"embedded API at {url} (pid {proc.pid}) over {info.trips:,} trips")
            reqs = Requests(info, cfg.seed)
            with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
                lats = measure(client, reqs, cfg.requests, cfg.warmup)
            lake_note = f"{info.trips:,} trips, {info.files} files"
            for lat in lats:
                note = (
                    f"embedded DuckDB, {lake_note}; {cfg.requests} sequential requests, "
                    f"{lat.distinct} distinct (cache hits <= {cfg.requests - lat.distinct})"
                )
                results += _p99_result(lat, "embedded", True, note)
            names = [n for n, w in MIX.items() for _ in range(w)]

            def fresh() -> Request:
                return ENDPOINTS[reqs.rnd.choice(names)](reqs)

            # Viewers of one dashboard share its views (ranges snap to the 5-minute grid):
            # a pool of views, each asked for again and again, hits the TTL cache.
            views = [fresh() for _ in range(cfg.shared_views)]
            ttl = ApiSettings().cache_ttl_s
            runs = {
                "cold": sustained(url, fresh, seconds, cfg.concurrency, ttl),
                "dashboard": sustained(
                    url, lambda: reqs.rnd.choice(views), seconds, cfg.concurrency, ttl
                ),
            }
            for mode, run_ in runs.items():
                log(
                    f"sustained {mode}: {run_.done:,} requests in {run_.wall_s:.1f} s = "
                    f"{run_.rps:.0f}/s, {run_.errors} errors ({run_.error_text}), "
                    f"cache hits ~{run_.hits:,}"
                )
            what = {
                "cold": "every request new (cache misses: the engine's rate)",
                "dashboard": f"{cfg.shared_views} shared views drawn at random (TTL {ttl} s)",
            }
            for mode, run_ in runs.items():
                results.append(
                    Result(
                        f"api embedded sustained req/s ({mode})",
                        run_.rps,
                        "req/s",
                        goal=f">= {GOAL_RPS:.0f} req/s, 0 errors",
                        met=run_.rps >= GOAL_RPS and run_.errors == 0,
                        note=f"{what[mode]}; {cfg.concurrency} concurrent clients on the same "
                        f"2 cores, {run_.wall_s:.0f} s, mix {MIX}; {run_.done:,} requests, "
                        f"{run_.errors} errors, cache hits ~{run_.hit_share:.0%}; under "
                        f"load p50 {run_.q(50):.0f} ms p99 {run_.q(99):.0f} ms; {lake_note}",
                    )
                )
                results.append(
                    Result(
                        f"api embedded sustained errors ({mode})",
                        run_.errors,
                        "errors",
                        goal="0 errors",
                        met=run_.errors == 0,
                        note=f"non-2xx answers and transport failures ({run_.error_text}) of "
                        f"{run_.done:,} requests over {run_.wall_s:.0f} s from "
                        f"{cfg.concurrency} concurrent clients; {what[mode]}",
                    )
                )
        results.append(
            Result("api embedded uvicorn peak RSS", rss.mib, "MiB", note=f"whole run, {lake_note}")
        )
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return results


# ---- through the twin ------------------------------------------------------------------------


def _upload(info: LakeInfo, lk: Lake) -> None:
    s = lk.twin.settings
    fs = pafs.S3FileSystem(
        endpoint_override=lk.twin.endpoint_url.removeprefix("http://"),
        scheme="http",
        region=s.region,
        access_key=s.access_key_id,
        secret_key=s.secret_access_key,
    )
    for top in (*(t.name for t in TABLES), "_pipeline"):
        pafs.copy_files(
            str(info.root / top),
            f"{lk.bucket}/{top}",
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=fs,
            use_threads=True,
        )


def _clear(lk: Lake) -> None:
    """The Glue tables point at the bucket root: remove what this suite put there."""
    for top in (*(t.name for t in TABLES), "_pipeline"):
        lk.delete_prefix(lk.bucket, f"{top}/")


def twin(info: LakeInfo, cfg: ApiBenchSettings) -> list[Result]:
    zip_path = build(BuildSettings(output=ROOT / "dist" / "lambda_api.zip"))
    log(f"lambda zip {zip_path} ({zip_path.stat().st_size / 2**20:.1f} MiB)")
    results: list[Result] = []
    with lake() as lk:
        api_url = lk.outputs.get("api_url")
        if not api_url:
            raise RuntimeError("envs/local did not deploy the api module (no api_url output)")
        _clear(lk)
        t0 = time.monotonic()
        _upload(info, lk)
        log(f"uploaded {info.files} objects to s3://{lk.bucket} in {time.monotonic() - t0:.0f} s")
        try:
            reqs = Requests(info, cfg.seed + 1)
            with httpx.Client(base_url=api_url, timeout=120, trust_env=False) as client:
                took, status = _get(client, ("/health", {}))
                log(f"twin API at {api_url}: first call {took:.0f} ms ({status})")
                lats = measure(client, reqs, cfg.twin_requests, 1)
        finally:
            _clear(lk)
    for lat in lats:
        note = (
            f"API Gateway + Lambda + the twin's Athena (DuckDB, full scans), lake of "
            f"{info.trips:,} trips in {info.files} objects; {cfg.twin_requests} sequential "
            f"requests, {lat.distinct} distinct"
        )
        results += _p99_result(lat, "twin", False, note)
    return results


def run(scale: str) -> list[Result]:
    cfg = ApiBenchSettings()
    n = cfg.trips_full if scale == "full" else cfg.trips_small
    seconds = cfg.sustained_s_full if scale == "full" else cfg.sustained_s_small
    results = embedded(build_lake(n, cfg), cfg, seconds)
    results += twin(build_lake(cfg.trips_twin, cfg), cfg)
    return results
