"""Build corpus_agents.json, corpus_parties.json and corpus_people.json from the PLOVER corpus's gold actors.

    python scripts/build_corpus_agents.py [--out pipelines/resources/events/corpus_agents.json]

Release 3.21 (docs/eval-events.md, "Release 3.21 actors"). The agent table (agents.json, from the
NGEC and Phoenix dictionaries) lacks common heads of actor phrases in news ("supporters", "the
party", "the municipality"). This script learns them from the gold actor spans of the newsflow
PLOVER corpus (``event_data.corpus_items()``: the corpus writers' items only, no seen blind set,
no dev or tune item, so the seen sets measured with the words are not their source):

- each gold actor span of an item (its primary and listed events' actors, once per item) is
  parsed alone by the shipped spaCy pipeline; a span whose root is a lower-case common noun the
  agent table lacks (as written and as a lemma) counts for that lemma and its gold sector;
- a lemma is kept when it heads at least ``MIN_SPANS`` spans, one sector holds at least
  ``MIN_SECTOR_SHARE`` of those spans that have a sector (that sector is its entry), and at least
  ``MIN_ACTOR_SHARE`` of its common-noun occurrences in the corpus headlines and leads lie inside
  a gold actor span of their item: words that are mostly not actors ("side", "office") stay out.

The thresholds were fixed in the release plan before any figure. Reads only the repository.

It also writes corpus_parties.json (release 3.26's candidate ``party_heads``): the head lemmas of
at least ``PARTY_MIN_SPANS`` gold spans with the same share of uses inside one, whatever their
sector: nouns that name a party the agent table lacks ("prefecture").

And corpus_people.json (release 3.27's ``corpus_people``): a person's country, which the coder
reads for people the Phoenix dictionary does not know in a current role (its roles end about
2015; the table itself holds dictionary people too, "putin", and the coder does the filtering).
Each gold actor span with a country is parsed alone as above; each PERSON entity inside it counts
once per item for its name key (``actors._name_key``) and, for a name of two words or more, for
its last word, with the span's gold country; a last word of fewer than four letters, not all
letters ("sa'ar"), or one that is a country name or an agent word, is no key (a one-word name is
a key as written). A key is kept when it counts at least ``PEOPLE_MIN_ITEMS`` items and one
country holds at least ``PEOPLE_MIN_SHARE`` of them.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from event_data import corpus_items  # noqa: E402

OUT = REPO / "pipelines" / "resources" / "events" / "corpus_agents.json"
MIN_SPANS = 5
MIN_SECTOR_SHARE = 0.6
MIN_ACTOR_SHARE = 0.25
# Release 3.26's candidate ``party_heads`` (corpus_parties.json): the heads the same spans teach
# with a lower floor and no sector test, nouns that name a party the agent table lacks.
PARTIES_OUT = OUT.with_name("corpus_parties.json")
PARTY_MIN_SPANS = 2
ACTOR_FIELDS = ("source_actor", "target_actor")
# Release 3.27's candidate ``corpus_people`` (corpus_people.json): name key -> country.
PEOPLE_OUT = OUT.with_name("corpus_people.json")
PEOPLE_MIN_ITEMS = 2
PEOPLE_MIN_SHARE = 0.8


def gold_actors(item: dict) -> list[dict]:
    """The item's gold actors with a text, primary and listed events', each text once."""
    found, seen = [], set()
    for holder in [item] + list(item.get("events") or []):
        for role in ACTOR_FIELDS:
            actor = holder.get(role)
            if actor and actor.get("text") and actor["text"] not in seen:
                seen.add(actor["text"])
                found.append(actor)
    return found


def span_offsets(text: str, span: str) -> list[tuple[int, int]]:
    """Every (start, end) where ``span`` occurs in ``text``."""
    out, start = [], text.find(span)
    while start >= 0:
        out.append((start, start + len(span)))
        start = text.find(span, start + 1)
    return out


def head_lemma(doc, agents: dict[str, str]) -> str | None:
    """The lemma of a parsed actor span's root when it is a lower-case common noun the agent
    table lacks (as written and as a lemma), else None."""
    if not len(doc):
        return None
    root = doc[:].root
    lemma = root.lemma_.lower()
    if root.pos_ != "NOUN" or not root.text.islower() or not lemma.isalpha():
        return None
    if agents.get(root.lower_) or agents.get(lemma):
        return None
    return lemma


def learn(items: list[dict], nlp, agents: dict[str, str], log=print) -> dict[str, str]:
    """lemma -> sector for the agent words the corpus's gold actors teach (module docstring)."""
    return learn_both(items, nlp, agents, log)[0]


def learn_both(items: list[dict], nlp, agents: dict[str, str], log=print) -> tuple[dict[str, str], list[str]]:
    """(the agent words of ``learn``, the party heads of release 3.26's candidate: lemmas heading
    at least ``PARTY_MIN_SPANS`` gold spans, ``MIN_ACTOR_SHARE`` of their uses inside one, any sector)."""
    spans = [(item, actor) for item in items for actor in gold_actors(item)]
    log(f"{len(items)} corpus items, {len(spans)} gold actor spans: parsing the spans ...")
    sectors: dict[str, Counter] = defaultdict(Counter)
    for (_item, actor), doc in zip(spans, nlp.pipe((a["text"] for _i, a in spans), batch_size=256)):
        lemma = head_lemma(doc, agents)
        if lemma:
            sectors[lemma][actor.get("sector")] += 1
    candidates = {lemma: counts for lemma, counts in sectors.items() if sum(counts.values()) >= PARTY_MIN_SPANS}
    log(f"{len(sectors)} head lemmas the agent table lacks, {len(candidates)} heading >= {PARTY_MIN_SPANS} spans; "
        "counting their occurrences in the headlines and leads ...")
    inside, total = Counter(), Counter()
    fields = [(item, name) for item in items for name in ("title", "text") if item.get(name)]
    for (item, name), doc in zip(fields, nlp.pipe((item[name] for item, name in fields), batch_size=128)):
        gold = [o for actor in gold_actors(item) for o in span_offsets(doc.text, actor["text"])]
        for tok in doc:
            lemma = tok.lemma_.lower()
            if tok.pos_ == "NOUN" and lemma in candidates:
                total[lemma] += 1
                inside[lemma] += any(start <= tok.idx < end for start, end in gold)
    parties = sorted(lemma for lemma in candidates if total[lemma] and inside[lemma] / total[lemma] >= MIN_ACTOR_SHARE)
    table = {}
    for lemma, counts in sorted(candidates.items()):
        if sum(counts.values()) < MIN_SPANS:
            continue
        labelled = Counter({s: n for s, n in counts.items() if s})
        if not labelled or not total[lemma]:
            continue
        sector, n = labelled.most_common(1)[0]
        if n / sum(labelled.values()) >= MIN_SECTOR_SHARE and inside[lemma] / total[lemma] >= MIN_ACTOR_SHARE:
            table[lemma] = sector
    return table, parties


def person_keys(doc, countries: dict[str, str], agents: dict[str, str]) -> set[str]:
    """The name keys of the PERSON entities of a parsed gold span: each name's key, and the last
    word of a name of two words or more unless it is short, a country name or an agent word."""
    from pipelines.nlp.actors import _name_key

    keys = set()
    for ent in doc.ents:
        if ent.label_ != "PERSON":
            continue
        key = _name_key(ent.text)
        if not key or not any(ch.isalpha() for ch in key):
            continue
        keys.add(key)
        words = key.split()
        last = words[-1]
        if len(words) >= 2 and len(last) >= 4 and last.isalpha() and last not in countries and last not in agents:
            keys.add(last)
    return keys


def learn_people(items: list[dict], nlp, countries: dict[str, str], agents: dict[str, str],
                 log=print) -> dict[str, str]:
    """name key -> country for the people the corpus's gold actor spans name (module docstring)."""
    spans = [(item, actor) for item in items for actor in gold_actors(item) if actor.get("country")]
    log(f"{len(items)} corpus items, {len(spans)} gold actor spans with a country: parsing the spans ...")
    votes: dict[str, dict[str, str]] = defaultdict(dict)   # key -> item id -> country (once per item)
    for (item, actor), doc in zip(spans, nlp.pipe((a["text"] for _i, a in spans), batch_size=256)):
        for key in person_keys(doc, countries, agents):
            votes[key].setdefault(item["id"], actor["country"])
    table = {}
    for key, by_item in sorted(votes.items()):
        counts = Counter(by_item.values())
        country, n = counts.most_common(1)[0]
        if len(by_item) >= PEOPLE_MIN_ITEMS and n / len(by_item) >= PEOPLE_MIN_SHARE:
            table[key] = country
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    from pipelines.nlp.ner import load_nlp

    agents = json.loads((REPO / "pipelines" / "resources" / "events" / "agents.json").read_text(encoding="utf-8"))
    table, parties = learn_both(corpus_items(), load_nlp(), agents)
    args.out.write_text(json.dumps(table, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                        encoding="utf-8")
    print(f"{len(table)} agent words -> {args.out}: " + ", ".join(f"{w} {s}" for w, s in sorted(table.items())))
    parties_out = args.out.with_name(PARTIES_OUT.name)
    parties_out.write_text(json.dumps(parties, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(parties)} party heads -> {parties_out} (release 3.26's candidate party_heads)")
    from pipelines.nlp.countries import country_table

    people = learn_people(corpus_items(), load_nlp(), country_table(), agents)
    people_out = args.out.with_name(PEOPLE_OUT.name)
    people_out.write_text(json.dumps(people, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                          encoding="utf-8")
    print(f"{len(people)} people -> {people_out} (release 3.27's candidate corpus_people)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
