"""Deterministic data splits shared by the event coder's training, gold-set and eval scripts.

- BBC archive: an article is held out for evaluation when sha1(id) mod 4 == 0; training only
  reads the other three quarters.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

# DEFAULT_SHARED and require are re-exported for the scripts that import them from here.
from _shared import BBC, CAMEO2PLOVER, CAMEO_VERBS, DEFAULT_SHARED, REPO, require  # noqa: F401


def _h(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16)


def bbc_heldout(article_id: str) -> bool:
    """True for BBC articles reserved for evaluation."""
    return _h(article_id) % 4 == 0


def load_bbc(shared: Path) -> list[dict]:
    """The BBC archive rows."""
    with open(shared / BBC, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


EVAL_SETS = ("events_dev_real.jsonl", "events_tune_real.jsonl")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _evaluation_texts() -> set[str]:
    """Normalised headlines and first sentences of the real-news dev and tuning sets."""
    from pipelines.nlp.event_features import split_sentences

    seen = set()
    for name in EVAL_SETS:
        path = REPO / "data" / "eval" / name
        if path.exists():
            with open(path, encoding="utf-8") as f:
                for item in (json.loads(line) for line in f if line.strip()):
                    seen.add(_norm(item.get("title") or ""))
                    seen.add(_norm((split_sentences(item["text"]) or [""])[0]))
    seen.discard("")
    return seen


def load_training_bbc(shared: Path) -> list[dict]:
    """The BBC articles training may read: outside the held-out quarter, and not repeating an
    evaluation item.

    The archive holds some stories more than once under other ids, sometimes with another
    headline over the same text, so a training-quarter article can repeat a held-out one; an
    article whose headline or first sentence is also a dev or tuning item is left out.
    """
    from pipelines.nlp.event_features import split_sentences

    seen = _evaluation_texts()
    return [a for a in load_bbc(shared) if not bbc_heldout(a["id"])
            and _norm(a["title"]) not in seen and _norm((split_sentences(a["body"]) or [""])[0]) not in seen]


FUNCTION_WORDS = {"{A}", "{B}", "a", "an", "the", "at", "in", "on", "with", "to", "for", "of", "by", "from",
                  "into", "over", "about", "against", "as", "up", "out", "off", "down", "back", "and", "that"}


def cameo_pattern_sentences(shared: Path, seed: int = 7) -> list[tuple[str, str, str]]:
    """Short headlines written from the CAMEO verb dictionary: (text, PLOVER type, CAMEO code).

    Every coded verb ("ASK [020]") and verb pattern ("- * TROOPS [152] # DEPLOY") becomes one
    clause, "{A} deployed troops", with synonym sets (&AIRCRAFT) replaced by one of their words
    and the source/target markers by {A}/{B}; the CAMEO code is mapped through CAMEO2PLOVER.
    These teach the classifier the verbs and verb-object pairs the NGEC templates never use.
    """
    import random
    import re

    from build_event_resources import inflect, parse_cameo2plover, plover_for

    c2p = parse_cameo2plover(shared / CAMEO2PLOVER)
    lines = (shared / CAMEO_VERBS).read_text(encoding="latin-1").splitlines()
    synsets: dict[str, list[str]] = {}
    current = None
    for raw in lines:
        line = raw.split("#", 1)[0].rstrip()
        if line.startswith("&"):
            current = line.strip()
            synsets[current] = []
        elif current and line.startswith("+"):
            synsets[current].append(line[1:].strip().rstrip("_").replace("_", " ").lower())
        elif not line.strip():
            current = None
    rng = random.Random(seed)

    def words(pattern: str) -> str:
        pattern = re.sub(r"&[A-Z_]+", lambda m: rng.choice(synsets.get(m.group(0)) or [""]), pattern).lower()
        for mark, repl in (("{", " "), ("}", " "), ("(", " "), (")", " "), ("$", " {A} "), ("+", " {B} "),
                           ("%", " "), ("^", " "), ("_", " ")):
            pattern = pattern.replace(mark, repl)
        return re.sub(r"\s+", " ", pattern).strip()

    entries = []  # (verb forms, words before the verb, words after it, CAMEO code)
    forms_of: dict[str, list[str]] = {}
    block_code = None
    for raw in lines:
        line, _, comment = raw.partition("#")
        line = line.rstrip()
        head = re.match(r"^---\s+(\S+)\s+\[([^\]]*)\]\s+---", line)
        if head:
            code = head.group(2).split(":")[0].strip()
            block_code = None if not code or code.startswith("-") else code
            continue
        if line[:1].isalpha():
            m = re.match(r"^([A-Z][A-Z'\-]*)\s*(\{([^}]*)\})?\s*(\[([0-9]+)[^\]]*\])?", line.strip())
            if m:
                forms_of[m.group(1)] = m.group(3).split() if m.group(3) else inflect(m.group(1))
                code = m.group(5) or block_code
                if code:
                    entries.append((forms_of[m.group(1)], "", "", code))
            continue
        # Patterns with a code pair ("[036:036]") are left out: their second code applies in
        # grammatical contexts a plain clause cannot show.
        p = re.match(r"^-\s*(.*?)\*(.*?)\[([0-9]+)\]", line)
        if p and comment.strip() and comment.split()[0].upper() in forms_of:
            entries.append((forms_of[comment.split()[0].upper()], p.group(1), p.group(2), p.group(3)))
    out = []
    for forms, before, after, code in entries:
        mapped = plover_for(code, c2p)
        usable = [f for f in forms if "_" not in f and not f.endswith("ING")]
        if not mapped or mapped[0] in ("", "NONE") or not usable:
            continue
        verb = rng.choice(usable).lower()
        pre, post = words(before), words(after)
        if (before or after) and not (set((pre + " " + post).split()) - FUNCTION_WORDS):
            continue  # "- * AT [036] # MEET": the code hangs on context the clause cannot show
        if not post and "{B}" not in pre and rng.random() < 0.5:
            post = "{B}"
        out.append((" ".join(x for x in ("{A}", pre, verb, post) if x), mapped[0], code))
    return out


CORPUS = REPO / "data" / "train" / "plover_corpus.jsonl"
NEWS_LABELS = REPO / "data" / "train" / "events_news_labels.jsonl"
# Release 2.4: 330 headline + lead items of the BBC sport, entertainment and tech sections
# (training quarter), labelled against the codebook, 319 of them "no event" (docs/bbc-event-labels.md).
HARD_NEGATIVES = REPO / "data" / "train" / "events_news_negatives.jsonl"
TUNING_SETS = tuple(REPO / "data" / "eval" / name for name in EVAL_SETS)
# Blind sets of past releases, scored once each and seen since: real-news training data now,
# one CV group per set (release 2.3; v4 since release 2.4, v5 since 2.5, v6 since 2.6, v7 since 2.7, v8 since 2.8, v9 since 2.9, v10 since 3.0, v11 since 3.1, v12 since 3.2, v13 since 3.5 (3.3 and 3.4 never shipped), v14 since 3.9 (its headline + lead classifier), v15 and v16 from the release after 3.10, v17 after 3.11, v18 after 3.12, v21 after 3.13 (v19 and v20 were lost unscored), v22 after 3.14, v23 after 3.19 (scored with 3.14's weights), v24 after 3.21 (the same weights), v25 after 3.22 (the same weights), v26 after 3.23 (3.23's weights: 3.14's recipe with v22-v25), v27 after 3.25 (3.25's weights: the same recipe with v22-v26), v28 after 3.26 (3.25's weights), v29 after 3.27 (3.27's weights: the same recipe with v22-v28), v30 after 3.28 (3.28's weights: the same recipe with v22-v29), v31 after 3.30 (3.30's weights: the same data with v30), v32 after 3.31 (3.31's weights: the same recipe with v31), v33 after 3.32 (3.32's weights: the same recipe with v32), v34 after 3.33 (3.33's weights: the same recipe with v33), v35 after 3.34 (3.34's weights: the same recipe with v34);
# docs/eval-events.md).
SEEN_BLIND = (("blind1", REPO / "data" / "eval" / "events_blind.jsonl"),
              ("blind2", REPO / "data" / "eval" / "events_blind2.jsonl"),
              ("blind3", REPO / "data" / "eval" / "events_blind3.jsonl"),
              ("blind4", REPO / "data" / "eval" / "events_blind4.jsonl"),
              ("blind5", REPO / "data" / "eval" / "events_blind5.jsonl"),
              ("blind6", REPO / "data" / "eval" / "events_blind6.jsonl"),
              ("blind7", REPO / "data" / "eval" / "events_blind7.jsonl"),
              ("blind8", REPO / "data" / "eval" / "events_blind8.jsonl"),
              ("blind9", REPO / "data" / "eval" / "events_blind9.jsonl"),
              ("blind10", REPO / "data" / "eval" / "events_blind10.jsonl"),
              ("blind11", REPO / "data" / "eval" / "events_blind11.jsonl"),
              ("blind12", REPO / "data" / "eval" / "events_blind12.jsonl"),
              ("blind13", REPO / "data" / "eval" / "events_blind13.jsonl"),
              ("blind14", REPO / "data" / "eval" / "events_blind14.jsonl"),
              ("blind15", REPO / "data" / "eval" / "events_blind15.jsonl"),
              ("blind16", REPO / "data" / "eval" / "events_blind16.jsonl"),
              ("blind17", REPO / "data" / "eval" / "events_blind17.jsonl"),
              ("blind18", REPO / "data" / "eval" / "events_blind18.jsonl"),
              ("blind21", REPO / "data" / "eval" / "events_blind21.jsonl"),
              ("blind22", REPO / "data" / "eval" / "events_blind22.jsonl"),
              ("blind23", REPO / "data" / "eval" / "events_blind23.jsonl"),
              ("blind24", REPO / "data" / "eval" / "events_blind24.jsonl"),
              ("blind25", REPO / "data" / "eval" / "events_blind25.jsonl"),
              ("blind26", REPO / "data" / "eval" / "events_blind26.jsonl"),
              ("blind27", REPO / "data" / "eval" / "events_blind27.jsonl"),
              ("blind28", REPO / "data" / "eval" / "events_blind28.jsonl"),
              ("blind29", REPO / "data" / "eval" / "events_blind29.jsonl"),
              ("blind30", REPO / "data" / "eval" / "events_blind30.jsonl"),
              ("blind31", REPO / "data" / "eval" / "events_blind31.jsonl"),
              ("blind32", REPO / "data" / "eval" / "events_blind32.jsonl"),
              ("blind33", REPO / "data" / "eval" / "events_blind33.jsonl"),
              ("blind34", REPO / "data" / "eval" / "events_blind34.jsonl"),
              ("blind35", REPO / "data" / "eval" / "events_blind35.jsonl"))
# Groups of real-news items (headline + lead as published); every other group is a corpus writer.
REAL_NEWS_GROUPS = ("bbc", "tune") + tuple(name for name, _ in SEEN_BLIND)
EVENT_TYPES = ("AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
               "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT")


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON Lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def writer_of(item: dict) -> str:
    """The corpus writer (w1..w20) of an item, from its id; the CV group."""
    return item["id"].split("-", 1)[0]


def item_types(item: dict) -> list[str]:
    """Event types of an item, primary first, each once ([] for no event)."""
    out = []
    for event in item.get("events") or ([{"event_type": item.get("event_type")}] if item.get("event_type") else []):
        if event.get("event_type") and event["event_type"] not in out:
            out.append(event["event_type"])
    return out


def corpus_items(path: Path = CORPUS) -> list[dict]:
    """The newsflow PLOVER corpus, near-duplicates across writers left out (the later copy goes)."""
    from pipelines.eval.dedup import dedupe_across_groups

    rows = sorted(read_jsonl(path), key=lambda r: r["id"])
    for row in rows:
        row["group"] = writer_of(row)
    return dedupe_across_groups(rows, writer_of)


def news_label_items(shared: Path, hard_negatives: bool = True) -> list[dict]:
    """The hand-labelled BBC headline + lead items (texts from ../shared), labels from the repo:
    703 business and politics items and (release 2.4) 330 sport, entertainment and tech items."""
    usable = {a["id"]: a for a in load_bbc(shared) if not bbc_heldout(a["id"])}
    from pipelines.nlp.event_features import split_sentences

    out = []
    rows = read_jsonl(NEWS_LABELS) + (read_jsonl(HARD_NEGATIVES) if hard_negatives else [])
    for row in rows:
        art = usable.get(row["id"])
        if row.get("skip") or art is None:
            continue
        lead = (split_sentences(art["body"]) or [""])[0]
        types = [t for t in (row["title_type"], row["lead_type"]) if t]
        events = [{"event_type": t} for t in dict.fromkeys(types)]
        out.append({"id": "bbc-" + row["id"], "title": art["title"], "text": lead, "events": events,
                    "event_type": events[0]["event_type"] if events else None, "group": "bbc",
                    "category": art["category"]})
    return out


def tuning_items() -> list[dict]:
    """The real-news dev and tuning sets: tuning/training data now, never reported as held-out."""
    out = []
    for path in TUNING_SETS:
        for row in read_jsonl(path):
            row["group"] = "tune"
            out.append(row)
    return out


def seen_blind_items() -> list[dict]:
    """The blind sets of releases 2.0-2.2 (each scored once, seen since), group = the set."""
    out = []
    for group, path in SEEN_BLIND:
        for row in read_jsonl(path):
            row["group"] = group
            out.append(row)
    return out


def is_corpus(item: dict) -> bool:
    """Whether an item is a corpus writer's (else real news: BBC labels, tuning or seen blind sets)."""
    return item["group"] not in REAL_NEWS_GROUPS


def training_items(shared: Path | None = None, hard_negatives: bool = True) -> list[dict]:
    """Every labelled item training may use: the corpus, then (when ../shared is there) the BBC
    labels, then the tuning sets and the seen blind sets; an extra item that near-duplicates a
    corpus item is left out, so grouped CV over the corpus never sees a test item's copy in
    training."""
    from pipelines.eval.dedup import drop_near_duplicates

    corpus = corpus_items()
    extra = tuning_items() + seen_blind_items()
    if shared is not None and (shared / BBC).exists():
        # The archive repeats some tuning-set stories under other ids: the BBC label's copy goes,
        # so each real-news set can be held out whole (scripts/loso_events.py).
        extra = drop_near_duplicates(news_label_items(shared, hard_negatives), extra) + extra
    return corpus + drop_near_duplicates(extra, corpus)
