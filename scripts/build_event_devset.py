"""Build data/eval/events_dev_real.jsonl: the hand-labelled real-news dev set of the event coder.

Texts are taken from ../shared/data/archive (the lead sentence and headline of articles from
news_articles_100.csv and of held-out BBC politics articles; whole held-out BBC sport and
entertainment articles); the labels below were assigned by hand with the PLOVER definitions
(../shared/data/events/PLOVER.md). ``None`` = the item reports no political event. Items whose
type was ambiguous between two PLOVER types were left out rather than guessed.

Label rows: key -> (event type or None, source (text, ISO-3 or None, sector), target (...)).
Usage: python scripts/build_event_devset.py [--shared ../shared] [--out data/eval/events_dev_real.jsonl]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, REPO, bbc_heldout, load_bbc, require  # noqa: E402
from _shared import NEWS100  # noqa: E402

from pipelines.nlp.event_features import split_sentences  # noqa: E402

A = None  # readability: no actor given

# news_articles_100.csv, article_id -> label (lead sentence + title)
NEWS = {
    1: ("SUPPORT", ("Vice President Mike Pence", "USA", "GOV"), ("Betsy DeVos", "USA", "GOV")),
    2: (None, A, A), 5: (None, A, A),
    6: ("ACCUSE", A, ("Trump", "USA", "GOV")),
    7: (None, A, A),
    8: ("ACCUSE", ("Iran's supreme leader", "IRN", "GOV"), ("President Donald Trump", "USA", "GOV")),
    9: ("REQUEST", ("The European Union", "IGO", None), ("Britain", "GBR", None)),
    10: (None, A, A), 11: (None, A, A),
    12: ("PROTEST", A, A),
    13: (None, A, A),
    14: ("SUPPORT", ("John Kelly", "USA", "GOV"), A),
    15: ("ACCUSE", A, A),
    16: ("ACCUSE", ("President Trump", "USA", "GOV"), ("the dishonest press", "USA", "MED")),
    17: (None, A, A),
    20: ("ACCUSE", ("The Department of Justice", "USA", "GOV"), ("a court ruling", "USA", "JUD")),
    21: ("SUPPORT", ("Vice President Mike Pence", "USA", "GOV"), ("Betsy DeVos", "USA", "GOV")),
    24: ("ACCUSE", ("Khamenei", "IRN", "GOV"), ("the new US administration", "USA", "GOV")),
    25: ("ACCUSE", ("AQAP leader Qassim al-Rimi", None, "REB"), A),
    27: ("ACCUSE", ("the White House", "USA", "GOV"), ("the media", "USA", "MED")),
    30: (None, A, A), 31: (None, A, A),
    32: ("COERCE", A, A),
    33: (None, A, A), 35: (None, A, A),
    36: ("MOBILIZE", ("Chinese ships", "CHN", None), ("Japanese islands", "JPN", None)),
    37: ("ASSAULT", ("A suicide bomber", None, None), A),
    38: ("ASSAULT", A, A),
    40: (None, A, A), 41: (None, A, A), 43: (None, A, A), 47: (None, A, A),
    48: ("ACCUSE", ("President Donald Trump", "USA", "GOV"), ("the media", "USA", "MED")),
    51: (None, A, A),
    57: ("REQUEST", ("Hundreds of state and national medical groups", "USA", None),
         ("President Donald Trump", "USA", "GOV")),
    58: (None, A, A), 59: (None, A, A), 61: (None, A, A), 62: (None, A, A),
    73: ("MOBILIZE", ("RAF fighter jets", "GBR", "MIL"), ("a Pakistan International Airlines plane", "PAK", None)),
    74: (None, A, A),
    75: ("SUPPORT", ("The US Senate", "USA", "LEG"), ("Betsy DeVos", "USA", "GOV")),
    76: (None, A, A),
    78: ("ACCUSE", A, ("the White House", "USA", "GOV")),
    79: (None, A, A), 80: (None, A, A), 83: (None, A, A), 84: (None, A, A), 86: (None, A, A),
    87: ("COERCE", A, A),
    88: (None, A, A), 89: (None, A, A), 90: (None, A, A), 91: (None, A, A), 93: (None, A, A),
    95: (None, A, A), 96: (None, A, A),
    97: ("ACCUSE", ("Donald Trump", "USA", "GOV"), ("a \"so-called judge\"", "USA", "JUD")),
    98: (None, A, A), 99: (None, A, A), 100: (None, A, A),
}

# Held-out BBC politics articles (2004-05), id -> label (lead sentence + title)
BBC_POLITICS = {
    "001": (None, A, A),
    "002": ("ACCUSE", ("The information commissioner", "GBR", "GOV"), ("Cabinet Office", "GBR", "GOV")),
    "007": ("ACCUSE", ("the Tories", "GBR", None), ("Tony Blair", "GBR", "GOV")),
    "031": ("CONCEDE", ("David Blunkett", "GBR", "GOV"), ("MPs", "GBR", "LEG")),
    "037": (None, A, A),
    "040": ("ACCUSE", ("Jack Straw", "GBR", "GOV"), ("Britain's highest court", "GBR", "JUD")),
    "041": ("RETREAT", ("David Blunkett", "GBR", "GOV"), A),
    "047": (None, A, A),
    "051": ("ACCUSE", ("MPs", "GBR", "LEG"), A),
    "059": (None, A, A), "071": (None, A, A), "079": (None, A, A),
    "082": ("ACCUSE", ("the Tories", "GBR", None), A),
    "083": (None, A, A),
    "084": ("ACCUSE", ("TUC", "GBR", "LAB"), A),
    "087": (None, A, A), "091": (None, A, A), "092": (None, A, A),
    "123": ("THREATEN", ("Speaker Michael Martin", "GBR", "LEG"), ("MPs", "GBR", "LEG")),
    "128": (None, A, A),
    "138": ("ACCUSE", ("the UK's public spending watchdog", "GBR", "GOV"), ("EU member states", None, None)),
    "159": (None, A, A), "166": (None, A, A), "181": (None, A, A), "182": (None, A, A),
    "189": ("SUPPORT", ("Tony Blair", "GBR", "GOV"), ("George Bush", "USA", "GOV")),
    "192": ("RETREAT", A, ("All four Britons", "GBR", None)),
    "198": ("SUPPORT", ("A chief constable", "GBR", "COP"), A),
    "205": ("REQUEST", ("Archbishop Desmond Tutu", "ZAF", "REL"), A),
    "210": ("PROTEST", ("Thousands of civil servants", "GBR", None), A),
    "213": (None, A, A),
    "219": ("THREATEN", ("Scotland's justice minister", "GBR", "GOV"), ("bigoted soccer fans", "GBR", None)),
    "220": (None, A, A), "222": (None, A, A), "238": (None, A, A),
    "240": ("REQUEST", ("A group of MPs and peers", "GBR", "LEG"), A),
    "244": ("ACCUSE", ("Scientists", None, None), ("Ruth Kelly", "GBR", "GOV")),
    "246": (None, A, A), "248": (None, A, A),
    "249": ("REJECT", ("Tony Blair", "GBR", "GOV"), A),
    "250": (None, A, A), "259": (None, A, A), "264": (None, A, A), "271": (None, A, A),
    "273": (None, A, A),
    "281": ("ACCUSE", ("Robert Kilroy-Silk", "GBR", None), ("the UK Independence Party", "GBR", None)),
    "283": (None, A, A), "289": (None, A, A), "291": (None, A, A), "306": (None, A, A),
    "312": ("CONSULT", A, A),
    "322": (None, A, A), "334": (None, A, A), "336": (None, A, A), "337": (None, A, A),
    "339": (None, A, A), "344": (None, A, A), "346": (None, A, A), "350": (None, A, A),
    "361": (None, A, A),
    "364": ("ACCUSE", ("Tory leader Michael Howard", "GBR", None), ("Gordon Brown", "GBR", "GOV")),
    "365": (None, A, A),
    "367": ("ACCUSE", ("Michael Howard", "GBR", None), ("Tony Blair", "GBR", "GOV")),
    "382": (None, A, A),
    "387": ("ACCUSE", ("Labour and the Tories", "GBR", None), A),
    "393": (None, A, A), "394": (None, A, A), "395": (None, A, A), "417": (None, A, A),
}

# Whole held-out BBC sport and entertainment articles: the first N of each by id, no-event
# unless listed here (every one was checked by hand for political content).
SPORT_ENT_PER_CATEGORY = 30
SPORT_ENT_EVENTS = {
    "bbc-entertainment-010": ("COERCE", ("Uganda's authorities", "UGA", "GOV"), ("the play The Vagina Monologues", None, None)),
}


def _actor(spec):
    if spec is None:
        return None
    text, country, sector = spec
    return {"text": text, "country": country, "sector": sector}


def gold_item(item_id, title, text, published_at, label, origin, category):
    etype, source, target = label
    return {"id": item_id, "title": title, "text": text, "published_at": published_at,
            "event_type": etype, "source_actor": _actor(source), "target_actor": _actor(target),
            "category": category, "origin": origin}


def news_leads(shared: Path, labels: dict, make_item=gold_item) -> list[dict]:
    """Headline + lead items of the labelled news_articles_100.csv articles, in label order."""
    csv.field_size_limit(10 ** 8)
    with open(shared / NEWS100, encoding="utf-8") as f:
        rows = {int(r["article_id"]): r for r in csv.DictReader(f)}
    items = []
    for key, label in labels.items():
        row = rows[key]
        lead = split_sentences(row["text"])[0]
        y, m, d = (int(x) for x in row["publish_date"].split("/"))
        items.append(make_item(f"news100-{key:03d}", row["title"].strip(), lead, f"{y:04d}-{m:02d}-{d:02d}",
                               label, f"news_articles_100.csv article_id={key}", "news-lead"))
    return items


def build(shared: Path) -> list[dict]:
    """All dev items, in a fixed order."""
    items = news_leads(shared, NEWS)
    bbc = {a["id"]: a for a in load_bbc(shared)}
    for key, label in BBC_POLITICS.items():
        art = bbc[f"bbc-politics-{key}"]
        assert bbc_heldout(art["id"]), art["id"]
        lead = split_sentences(art["body"])[0]
        items.append(gold_item(art["id"], art["title"].strip(), lead, None, label,
                           f"bbc_news_2004_2005.jsonl id={art['id']}", "politics-lead"))
    for category in ("sport", "entertainment"):
        chosen = [a for a in bbc.values() if a["category"] == category and bbc_heldout(a["id"])]
        for art in sorted(chosen, key=lambda a: a["id"])[:SPORT_ENT_PER_CATEGORY]:
            label = SPORT_ENT_EVENTS.get(art["id"], (None, A, A))
            items.append(gold_item(art["id"], art["title"].strip(), art["body"].strip(), None, label,
                               f"bbc_news_2004_2005.jsonl id={art['id']}", category))
    return items


def write_items(items: list[dict], out: Path) -> None:
    """Gold items as JSON Lines, with a one-line summary."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    n_event = sum(1 for i in items if i["event_type"])
    print(f"{len(items)} items ({n_event} with an event) -> {out}")


def main(argv: list[str] | None = None) -> int:
    """Write the dev set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "eval" / "events_dev_real.jsonl")
    args = parser.parse_args(argv)
    require(args.shared, NEWS100, BBC)
    write_items(build(args.shared), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
