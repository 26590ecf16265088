"""Build data/eval/events_tune_real.jsonl: the hand-labelled real-news tuning set of the event coder.

A second real-news set, separate from the dev set (scripts/build_event_devset.py), for choosing
thresholds and rules so that the dev set stays a blind test. Texts are taken from ../shared/data/archive
(headline + lead sentence of the news_articles_100.csv articles the dev set does not use, and of
held-out BBC politics and business articles the dev set does not use); no article is shared with the
dev set, by key or by text (checked at build time). The labels below were assigned by hand from the
headline and lead with the PLOVER definitions (../shared/data/events/PLOVER.md), following the dev
set's conventions: ``None`` = no political event between actors (earnings, prices, mergers, a
party's domestic policy, denials of reports, crime without a state response); a regulator
investigating or filing complaints = ACCUSE; an announced seizure = COERCE; a jailing = COERCE;
a resignation = RETREAT; signing a deal = SUPPORT.

Left out (not labelled) because the type could not be decided between two candidates (or between
an event and no event): 37 items -- 12 news_articles_100 (3, 4, 28, 29, 50, 52, 55, 67, 70, 71, 72,
82), 12 BBC politics (013, 018, 114, 151, 173, 270, 279, 286, 325, 332, 362, 372) and 13 BBC business
(064, 077, 130, 181, 187, 200, 202, 205, 220, 231, 255, 334, 340). Also skipped: news_articles_100
article 22 (no text), texts identical to a dev item (politics 285 = dev 083, politics 310 = dev 123)
and business 333 (identical to business 265).

Label rows: key -> (event type or None, source (text, ISO-3, sector) or None, target (...) or None).
Usage: python scripts/build_event_tuneset.py [--shared ../shared] [--out data/eval/events_tune_real.jsonl]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_event_devset as dev  # noqa: E402
from event_data import BBC, DEFAULT_SHARED, REPO, bbc_heldout, load_bbc, require  # noqa: E402
from _shared import NEWS100  # noqa: E402

from pipelines.nlp.event_features import split_sentences  # noqa: E402

A = None  # readability: no actor given
N = (None, A, A)  # no event

# news_articles_100.csv, article_id -> label (lead sentence + title); none of these is in dev.NEWS
NEWS = {
    18: N,
    19: ("REQUEST", ("The wife of a poisoned Russian opposition activist", "RUS", None),
         ("President Donald Trump", "USA", "GOV")),
    23: ("ACCUSE", A, ("DeVos", "USA", "GOV")),
    26: ("CONSULT", ("Trump", "USA", "GOV"), ("Japan's Prime Minister", "JPN", "GOV")),
    34: N, 39: N, 42: N, 44: N, 45: N, 46: N,
    49: ("SUPPORT", ("Trump", "USA", "GOV"), ("the Russian President", "RUS", "GOV")),
    53: N, 54: N, 56: N, 60: N, 63: N, 64: N, 65: N, 66: N, 68: N, 69: N, 77: N,
    81: ("COERCE", A, ("A man who admitted racially abusing a US army veteran", "GBR", None)),
    85: ("ACCUSE", ("Sean Spicer", "USA", "GOV"), ("The New York Times", "USA", "MED")),
    92: N, 94: N,
}

# Held-out BBC politics articles (2004-05) not in the dev set, id -> label (lead sentence + title)
BBC_POLITICS = {
    "019": ("ACCUSE", A, ("The first minister", "GBR", "GOV")),
    "030": N, "045": N,
    "049": ("REJECT", ("Home Secretary Charles Clarke", "GBR", "GOV"), ("Charles Kennedy", "GBR", None)),
    "058": ("RETREAT", ("The EU", "IGO", None), ("China", "CHN", None)),
    "085": ("ACCUSE", A, ("529 quangos", "GBR", "GOV")),
    "160": ("ACCUSE", ("A senior barrister", "GBR", None), ("the government", "GBR", "GOV")),
    "169": ("ACCUSE", ("pro-hunt MPs", "GBR", "LEG"), ("The new law banning hunting with dogs", "GBR", None)),
    "297": ("REQUEST", ("Peter Mandelson", "GBR", None), ("The BBC", "GBR", "MED")),
    "300": N, "327": N, "329": N,
    "316": ("AGREE", ("Tony Blair", "GBR", "GOV"), ("Tory leader Michael Howard", "GBR", None)),
    "338": N,
    "357": ("ACCUSE", ("Ministers", "GBR", "GOV"), ("Brown", "GBR", "GOV")),
    "359": N, "377": N, "384": N, "402": N,
    "404": ("RETREAT", ("A Conservative election challenger", "GBR", None), A),
}

# Held-out BBC business articles (2004-05), id -> label (lead sentence + title); the dev set has none
BBC_BUSINESS = {
    "004": N, "005": N, "009": N, "011": N, "015": N, "017": N, "019": N, "024": N, "027": N,
    "028": N,
    "029": ("COERCE", ("Venezuelan authorities", "VEN", "GOV"), ("a British company", "GBR", "BUS")),
    "031": N, "039": N, "040": N, "044": N, "046": N, "048": N, "049": N, "055": N, "057": N,
    "061": N, "072": N,
    "075": ("CONSULT", ("European Union finance ministers", "IGO", "GOV"), A),
    "082": N,
    "083": ("ACCUSE", A, ("Russian oil firm Yukos", "RUS", "BUS")),
    "091": N,
    "104": ("ACCUSE", ("The US Justice Department", "USA", "GOV"), ("tobacco firms", "USA", "BUS")),
    "110": N, "120": N, "121": N, "128": N, "132": N, "147": N, "150": N, "152": N, "154": N,
    "157": N, "159": N, "160": N, "162": N, "177": N,
    "178": ("CONSULT", ("Russia", "RUS", "GOV"), ("the World Trade Organisation", "IGO", None)),
    "191": N, "195": N, "211": N, "212": N, "214": N, "234": N, "235": N, "237": N, "242": N,
    "248": N, "253": N, "254": N, "257": N, "258": N, "260": N, "261": N, "262": N,
    "265": ("ACCUSE", ("The US stock market regulator", "USA", "GOV"), ("Marsh & McLennan", "USA", "BUS")),
    "271": N, "273": N, "275": N, "276": N, "280": N, "288": N, "290": N, "292": N, "293": N,
    "294": N, "296": N, "303": N, "322": N, "328": N, "329": N, "339": N, "341": N, "344": N,
    "352": N, "353": N, "354": N, "360": N, "364": N, "374": N, "377": N, "385": N, "396": N,
    "401": N, "406": N, "411": N,
    "420": ("SUPPORT", ("India", "IND", "GOV"), ("Iran", "IRN", "GOV")),
    "423": ("REQUEST", ("Israel", "ISR", "GOV"), ("a US banker and former International Monetary Fund director",
                                                  "USA", None)),
    "425": N, "429": N, "432": N, "439": N, "442": N, "450": N, "451": N, "455": N, "459": N,
    "462": N,
    "475": ("ACCUSE", ("French stock market regulator AMF", "FRA", "GOV"), ("Vivendi Universal", "FRA", "BUS")),
    "480": N, "481": N, "486": N,
    "496": ("REQUEST", ("European leaders", None, "GOV"), ("Asian states", None, "GOV")),
}


def tune_item(item_id, title, text, published_at, label, origin, category):
    item = dev.gold_item(item_id, title, text, published_at, label, origin, category)
    item["id"] = f"tune-{item_id}"
    return item


def build(shared: Path) -> list[dict]:
    """All tuning items, in a fixed order; none shares a key or a text with the dev set."""
    assert not set(NEWS) & set(dev.NEWS)
    assert not set(BBC_POLITICS) & set(dev.BBC_POLITICS)
    items = dev.news_leads(shared, NEWS, tune_item)
    bbc = {a["id"]: a for a in load_bbc(shared)}
    for category, labels in (("politics", BBC_POLITICS), ("business", BBC_BUSINESS)):
        for key, label in labels.items():
            art = bbc[f"bbc-{category}-{key}"]
            assert bbc_heldout(art["id"]), art["id"]
            lead = split_sentences(art["body"])[0]
            items.append(tune_item(art["id"], art["title"].strip(), lead, None, label,
                               f"bbc_news_2004_2005.jsonl id={art['id']}", f"{category}-lead"))
    dev_texts = {(i["title"], i["text"]) for i in dev.build(shared)}
    clash = [i["id"] for i in items if (i["title"], i["text"]) in dev_texts]
    assert not clash, f"tuning items identical to dev items: {clash}"
    seen: set[tuple[str, str]] = set()
    for i in items:
        assert (i["title"], i["text"]) not in seen, f"duplicate text: {i['id']}"
        seen.add((i["title"], i["text"]))
    return items


def main(argv: list[str] | None = None) -> int:
    """Write the tuning set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "eval" / "events_tune_real.jsonl")
    args = parser.parse_args(argv)
    require(args.shared, NEWS100, BBC)
    dev.write_items(build(args.shared), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
