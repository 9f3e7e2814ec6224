"""The TLC taxi zone polygons the map draws, shipped inside the package (no download at run time).

The source file (263 zones, ~98k points, 3.9 MB) is simplified once with Douglas-Peucker and
rounded to ~1 m, which keeps every zone's shape at city scale and makes the page ~10x lighter:
``python -m streamlit_app.geo data/tlc/taxi_zones.geojson.gz`` rewrites the asset from the source
kept in the repository (data/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

ASSET = Path(__file__).resolve().parent / "assets" / "taxi_zones.geojson"

Point = list[float]
Ring = list[Point]


def _dist_to_segment(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return float(((p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2) ** 0.5)
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return float(((p[0] - a[0] - t * dx) ** 2 + (p[1] - a[1] - t * dy) ** 2) ** 0.5)


def _douglas_peucker(points: Ring, tolerance: float) -> Ring:
    """Iterative (rings can have thousands of points; recursion would be deep)."""
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        lo, hi = stack.pop()
        best, best_i = 0.0, -1
        for i in range(lo + 1, hi):
            d = _dist_to_segment(points[i], points[lo], points[hi])
            if d > best:
                best, best_i = d, i
        if best > tolerance:
            keep[best_i] = True
            stack += [(lo, best_i), (best_i, hi)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def simplify_ring(ring: Ring, tolerance: float, digits: int = 5) -> Ring:
    """A closed ring, simplified; falls back to the original when it would collapse."""
    out = _douglas_peucker(ring, tolerance)
    if len(out) < 4:  # a closed ring needs 3 distinct points + the closing one
        out = ring
    out = [[round(x, digits), round(y, digits)] for x, y in out]
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def simplify(collection: dict[str, Any], tolerance: float = 1e-4) -> dict[str, Any]:
    """A FeatureCollection with every ring simplified and only the properties the app uses."""
    features: list[dict[str, Any]] = []
    for f in collection["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        simple = [[simplify_ring(r, tolerance) for r in poly] for poly in polys]
        props = f["properties"]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "zone_id": int(props["LocationID"]),
                    "zone": props["zone"],
                    "borough": props["borough"],
                },
                "geometry": {
                    "type": "MultiPolygon",  # one shape type keeps the layer's accessors simple
                    "coordinates": simple,
                },
            }
        )
    features.sort(key=lambda f: f["properties"]["zone_id"])
    return {"type": "FeatureCollection", "features": features}


@cache
def load_zones() -> dict[str, Any]:
    """The shipped FeatureCollection (read once per process; callers must not mutate it)."""
    data: dict[str, Any] = json.loads(ASSET.read_text())
    return data


def read_source(path: Path) -> dict[str, Any]:
    """The TLC zones GeoJSON, plain or gzipped (the repository keeps it as .geojson.gz)."""
    raw = path.read_bytes()
    data: dict[str, Any] = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description="Simplify the TLC taxi zones into the app's asset.")
    ap.add_argument("source", type=Path)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="degrees (1e-4 ~ 10 m)")
    args = ap.parse_args()
    out = simplify(read_source(args.source), args.tolerance)
    ASSET.parent.mkdir(parents=True, exist_ok=True)
    ASSET.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    points = sum(len(r) for f in out["features"] for p in f["geometry"]["coordinates"] for r in p)
    print(f"{ASSET}: {len(out['features'])} zones, {points} points, {ASSET.stat().st_size} bytes")


if __name__ == "__main__":
    main()
