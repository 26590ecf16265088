"""Build the world outline that `newsflow report` draws its map on (offline, no tiles).

    python scripts/build_world_outline.py [--world-atlas DIR] [--out pipelines/resources/report/world_land.json]

Source: Natural Earth 1:110m land (public domain, naturalearthdata.com), version 4.1.0 as TopoJSON
in the npm package `world-atlas` 2.0.2 (ISC licence, Mike Bostock). Without --world-atlas the
script fetches that package with `npm pack` from the npm registry (npm must be installed).

The TopoJSON arcs are decoded, rings that cross the antimeridian are made continuous (and
copied one turn over, so the map's edges cut them), each ring is simplified (Douglas-Peucker, 0.25 degree), rounded
to 0.1 degree and rings smaller than a few square degrees are dropped: about 40 KB of JSON, a
ring being a list of [longitude, latitude] pairs. Deterministic: the same package gives the same file.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "world-atlas@2.0.2"
TOLERANCE_DEG = 0.25
MIN_AREA_SQ_DEG = 1.0
OUT = REPO / "pipelines" / "resources" / "report" / "world_land.json"


def fetch_world_atlas(into: Path) -> Path:
    """``npm pack world-atlas@2.0.2`` into ``into`` and unpack it: the package folder."""
    if shutil.which("npm") is None:
        sys.exit("build_world_outline: npm is not installed; install it (apt-get install npm) "
                 "or pass --world-atlas DIR (an unpacked world-atlas package)")
    done = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=into, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"build_world_outline: `npm pack {PACKAGE}` failed: {done.stderr.strip()[:300]}")
    with tarfile.open(into / done.stdout.strip().splitlines()[-1]) as archive:
        archive.extractall(into, filter="data")
    return into / "package"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON's quantized, delta-encoded arcs as lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(ring: list[int], arcs: list) -> list[tuple[float, float]]:
    """A ring given as arc indexes (``~i``: arc i reversed); shared end points appear once."""
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def simplify(points: list, tolerance: float) -> list:
    """Douglas-Peucker, iterative (rings have thousands of points)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5
        worst, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            d = abs(dy * (px - x1) - dx * (py - y1)) / norm if norm else ((px - x1) ** 2 + (py - y1) ** 2) ** 0.5
            if d > worst:
                worst, index = d, i
        if worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep) if k]


def unwrap(points: list) -> list:
    """Longitudes made continuous where a ring crosses the antimeridian (Natural Earth's rings are
    drawn on the sphere: Chukotka jumps from 180 to -180). A ring around a pole (Antarctica) gains
    the two corners at the pole that close it on a flat map."""
    out, offset = [points[0]], 0.0
    for (lon0, _), (lon, lat) in zip(points, points[1:]):
        if lon - lon0 > 180:
            offset -= 360
        elif lon - lon0 < -180:
            offset += 360
        out.append((lon + offset, lat))
    if abs(out[-1][0] - out[0][0]) > 180:
        pole = -90.0 if sum(lat for _, lat in out) < 0 else 90.0
        out += [(out[-1][0], pole), (out[0][0], pole)]
    return out


def copies(points: list) -> list[list]:
    """The ring, and its copy one turn over where it runs past +-180 (the map's edge cuts both)."""
    lons = [lon for lon, _ in points]
    shifted = [[(lon + turn, lat) for lon, lat in points] for turn in (-360, 360)
               if (max(lons) > 180 and turn < 0) or (min(lons) < -180 and turn > 0)]
    return [points] + shifted


def area(points: list) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]))) / 2


def outline(topology: dict) -> list[list[list[float]]]:
    arcs = decode_arcs(topology)
    rings = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            for ring in polygon:
                points = simplify(unwrap(ring_points(ring, arcs)), TOLERANCE_DEG)
                rounded = []
                for lon, lat in points:
                    point = [round(lon, 1), round(lat, 1)]
                    if not rounded or rounded[-1] != point:
                        rounded.append(point)
                if len(rounded) >= 4 and area([tuple(p) for p in rounded]) >= MIN_AREA_SQ_DEG:
                    rings += [[[round(lon, 1), lat] for lon, lat in ring] for ring in copies(rounded)]
    return rings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--world-atlas", type=Path, default=None,
                        help=f"an unpacked {PACKAGE} package folder (default: fetch it with npm pack)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.world_atlas or fetch_world_atlas(Path(scratch))
        source = folder / "land-110m.json"
        if not source.exists():
            sys.exit(f"build_world_outline: {source} not found (is {folder} the world-atlas package?)")
        version = json.loads((folder / "package.json").read_text())["version"]
        rings = outline(json.loads(source.read_text()))
    document = {
        "source": f"Natural Earth 1:110m land 4.1.0 (public domain), from the npm package world-atlas {version} "
                  f"(ISC licence); simplified by scripts/build_world_outline.py",
        "rings": rings,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    points = sum(len(r) for r in rings)
    print(f"build_world_outline: {len(rings)} rings, {points} points, "
          f"{args.out.stat().st_size / 1024:.0f} KB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
