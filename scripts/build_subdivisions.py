"""Build pipelines/resources/events/subdivisions.json: names of provinces, states and regions -> ISO-3.

    pip install pycountry==26.2.16   # build-time only; newsflow does not import it
    python scripts/build_subdivisions.py [--out pipelines/resources/events/subdivisions.json]

Source: the ISO 3166-2 subdivision names shipped in the pycountry package (pinned above; data
from Debian's iso-codes). Kept: names of a single country's subdivisions that the shipped country
table does not already know (so "Punjab", a state of India and a province of Pakistan, is left
out; "Georgia" stays a country), of four letters or more, with a bracketed or slash-separated
alternative taken as a name of its own. The actor coder's ``subdivisions`` rule reads the table
for place mentions the gazetteer could not place (it has countries, US states and cities only).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.nlp.countries import country_table, normalize_name  # noqa: E402

PYCOUNTRY_VERSION = "26.2.16"


def subdivision_names() -> dict[str, str]:
    """normalized name -> ISO-3 for names of one country's subdivisions only."""
    import pycountry

    by_name: dict[str, set[str]] = {}
    for sub in pycountry.subdivisions:
        country = pycountry.countries.get(alpha_2=sub.country_code)
        if country is None:
            continue
        names = [sub.name] + re.findall(r"\[([^\]]+)\]|\(([^)]+)\)", sub.name)
        for raw in names:
            for part in (raw if isinstance(raw, tuple) else (raw,)):
                for name in re.split(r"\s*/\s*", re.sub(r"\s*[\[(][^\])]*[\])]", "", part or "")):
                    key = normalize_name(name)
                    if len(key.replace(" ", "")) >= 4 and "," not in key:
                        by_name.setdefault(key, set()).add(country.alpha_3)
    known = country_table()
    return {k: next(iter(v)) for k, v in sorted(by_name.items()) if len(v) == 1 and k not in known}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "pipelines" / "resources" / "events" / "subdivisions.json")
    args = parser.parse_args(argv)
    from importlib.metadata import version

    if version("pycountry") != PYCOUNTRY_VERSION:
        print(f"pycountry {version('pycountry')} installed; the table is built from {PYCOUNTRY_VERSION}", file=sys.stderr)
        return 1
    table = subdivision_names()
    args.out.write_text(json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                        encoding="utf-8")
    print(f"{len(table)} subdivision names -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
