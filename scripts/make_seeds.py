"""Build seeds/articles.jsonl: the seed article plus a dozen BBC News samples for demos and tests.

Usage: python scripts/make_seeds.py [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A spread of topics: politics and world news carry events, sport/entertainment/business mostly not.
BBC_IDS = ["bbc-politics-001", "bbc-politics-010", "bbc-politics-042", "bbc-politics-120",
           "bbc-business-001", "bbc-business-050", "bbc-tech-003", "bbc-tech-040",
           "bbc-sport-001", "bbc-sport-100", "bbc-entertainment-001", "bbc-entertainment-070"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    seed = args.shared / "seeds" / "000_10c24450e8870a78.txt"
    lines = seed.read_text(encoding="utf-8").strip().splitlines()
    records = [{
        "id": "seed-000-10c24450e8870a78",
        "source": "teleSUR/EFE",
        "title": lines[0].strip(),
        "body": "\n".join(lines[1:]).strip(),
        "published_at": "2025-06-04T09:21:00-04:00",
        "language": "en",
    }]
    wanted = set(BBC_IDS)
    with open(args.shared / "data" / "archive" / "bbc_news_2004_2005.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["id"] in wanted:
                records.append({"id": row["id"], "source": row.get("source") or "BBC News",
                                "title": row["title"], "body": row["body"], "language": "en",
                                "category": row["category"]})
    out = ROOT / "seeds" / "articles.jsonl"
    out.parent.mkdir(exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} articles to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
