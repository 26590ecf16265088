"""Join writer sessions' texts to labeller sessions' labels and drop near-duplicates: the merge step
of a blind set (docs/blind-sets.md, step 4) and of new corpus writers (docs/plover-corpus.md).

For each part X (a writer's letter or name) the texts are read from ``--texts`` and the labels from
``--labels`` ({folder} and {x} filled in; by default the blind-set layout, FOLDER/texts-X.jsonl and
FOLDER/in-X/labels.jsonl). A label file must keep its texts' ids, titles, texts, dates and
categories, in order. ``origin`` (and, with ``--register X=TEXT``, ``register``) is set. An item is
dropped when it near-duplicates (word 5-gram containment >= 0.5, pipelines/eval/dedup.py) a
training item, an item of any data/eval set, a sealed blind set (opened in memory only; nothing
of it is printed), an article of the BBC archive (when ../shared has it; a line says so when not)
or an earlier item of the merge. The ids dropped are printed; the rest go to ``--out``.

    python scripts/merge_event_items.py --folder /work/blind23 --parts i j k l --out /work/blind23/events_blind23.jsonl \\
        --origin "written for newsflow (blind writer {x}); labelled by a separate helper from the codebook only"
    python scripts/merge_event_items.py --folder /work/train314 --parts w18 w19 w20 --texts "{folder}/{x}/texts.jsonl" \\
        --labels "{folder}/lab-{x}/labels.jsonl" --origin "written for newsflow ({x})" \\
        --register w18="business and markets pages in political words" ... --out new.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, REPO, load_bbc, read_jsonl, training_items  # noqa: E402
from seal_blind import SEALED, unseal  # noqa: E402

from pipelines.eval.dedup import ShingleIndex, item_text  # noqa: E402

KEPT_FIELDS = ("id", "title", "text", "published_at", "category")
ORDER = ("id", "title", "text", "published_at", "event_type", "mode", "source_actor", "target_actor", "events",
         "category", "register", "origin")


def join(texts: list[dict], labels: list[dict], origin: str, register: str | None = None) -> list[dict]:
    """The labelled items of one part, in the texts' order (ValueError when a label drifted)."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    out = []
    for t, lab in zip(texts, labels):
        for key in KEPT_FIELDS:
            if t.get(key) != lab.get(key):
                raise ValueError(f"{t.get('id')}: the label's {key} differs from the text's")
        row = dict(lab, origin=origin, **({"register": register} if register else {}))
        out.append({k: row[k] for k in ORDER if k in row})
    return out


def drop_near_duplicates(items: list[dict], against: list[dict]) -> tuple[list[dict], list[str]]:
    """(kept, ids dropped): items near-duplicating ``against`` or an earlier kept item go."""
    index = ShingleIndex([item_text(i) for i in against])
    kept, dropped = [], []
    for item in items:
        if index.matches(item_text(item)):
            dropped.append(item["id"])
            continue
        kept.append(item)
        index.add(item_text(item))
    return kept, dropped


def reference_items(shared: Path | None, log=print) -> list[dict]:
    """Everything a new item must not near-duplicate (see the module docstring)."""
    items = training_items(shared if shared is not None and (shared / BBC).exists() else None)
    for path in sorted((REPO / "data" / "eval").glob("*.jsonl")):
        items += read_jsonl(path)
    for path in sorted(SEALED.glob("*.sealed")):
        name = path.name[: -len(".sealed")]
        items += [json.loads(line) for line in unseal(path.read_bytes(), name).decode("utf-8").splitlines() if line.strip()]
    if shared is not None and (shared / BBC).exists():
        items += [{"title": a["title"], "text": a.get("body", "")} for a in load_bbc(shared)]
    else:
        log(f"merge_event_items: {shared / BBC if shared else BBC} is absent: the BBC archive is not checked "
            "(nor the BBC labels among the training items)")
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--parts", nargs="+", required=True, help="writers' letters or names, in order")
    parser.add_argument("--texts", default="{folder}/texts-{x}.jsonl")
    parser.add_argument("--labels", default="{folder}/in-{x}/labels.jsonl")
    parser.add_argument("--origin", required=True, help="the origin field; {x} is the part")
    parser.add_argument("--register", nargs="*", default=[], metavar="X=TEXT", help="a register per part")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    registers = dict(r.split("=", 1) for r in args.register)
    items = []
    for x in args.parts:
        texts = read_jsonl(Path(args.texts.format(folder=args.folder, x=x)))
        labels = read_jsonl(Path(args.labels.format(folder=args.folder, x=x)))
        try:
            items += join(texts, labels, args.origin.format(x=x), registers.get(x))
        except ValueError as e:
            print(f"merge_event_items: part {x}: {e}", file=sys.stderr)
            return 1
    kept, dropped = drop_near_duplicates(items, reference_items(args.shared))
    with open(args.out, "w", encoding="utf-8") as f:
        for item in kept:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    events = sum(1 for i in kept if i.get("event_type"))
    print(f"{len(items)} labelled, {len(kept)} kept ({events} with an event) into {args.out}; "
          f"{len(dropped)} near-duplicates dropped: {', '.join(dropped) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
