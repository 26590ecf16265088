"""Print the Entity records of one article (first line title, rest body), one per line.

    python scripts/show_entities.py ../shared/seeds/000_10c24450e8870a78.txt --published 2025-06-04
    python scripts/show_entities.py FILE --labels PERSON GPE --people-summary
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    """Resolve and print the article's entities."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--published", help="publication date, YYYY-MM-DD (UTC)")
    parser.add_argument("--labels", nargs="*", help="only these spaCy labels")
    parser.add_argument("--people-summary", action="store_true",
                        help="also print each PERSON entity_id with its canonical names and mentions")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(f"show_entities: cannot read {args.file}", file=sys.stderr)
        return 2
    from pipelines.nlp.entities import EntityResolver
    from pipelines.nlp.ner import load_nlp

    title, _, body = args.file.read_text(encoding="utf-8").partition("\n")
    published = (datetime.strptime(args.published, "%Y-%m-%d").replace(tzinfo=timezone.utc)
                 if args.published else None)
    nlp = load_nlp()
    title_doc, body_doc = nlp.pipe([title, body])
    entities = EntityResolver.load().resolve(title_doc, body_doc, published)
    people: dict[str, dict[str, set]] = defaultdict(lambda: {"canonical": set(), "mentions": set()})
    for e in entities:
        if args.labels and e["label"] not in args.labels:
            continue
        geo = e["geo"]
        where = (f" geo={geo['name']} ({geo['latitude']:.2f}, {geo['longitude']:.2f}) {geo['country']} "
                 f"{geo['feature_class']}" if geo else "")
        print(f"{e['field']}[{e['start_char']}:{e['end_char']}] {e['text']!r} {e['label']} "
              f"canonical={e['canonical']!r} id={e['entity_id']} country={e['country']}{where}")
        if e["label"] == "PERSON":
            people[e["entity_id"]]["canonical"].add(e["canonical"])
            people[e["entity_id"]]["mentions"].add(e["text"])
    if args.people_summary:
        print(f"{len(people)} PERSON entities:")
        for ident, info in people.items():
            print(f"  {ident} canonical={sorted(info['canonical'])} mentions={sorted(info['mentions'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
