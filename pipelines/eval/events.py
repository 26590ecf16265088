"""``newsflow eval events --gold FILE``: measure the PLOVER event coder against labelled text.

Gold format: JSON Lines, one item per line (a sentence, a lead or a whole article)::

    {"id": "news100-008",                      # required, unique
     "text": "Iran's supreme leader said ...",   # required: the body (one sentence is fine)
     "title": "Iran's Top Leader Mocks ...",     # optional headline ("" or absent: none)
     "published_at": "2017-02-07",              # optional ISO date/datetime, resolves relative dates
     "event_type": "ACCUSE",                    # required: a PLOVER type, or null for no political event
     "mode": null,                              # optional, not scored
     "source_actor": {"text": "Iran's supreme leader", "country": "IRN", "sector": "GOV"},  # optional
     "target_actor": {"text": "President Donald Trump", "country": "USA", "sector": "GOV"},  # optional
     "category": "news-lead"}                   # optional free label; per-category no-event rates

Every item is parsed with the shared spaCy pipeline, entities are resolved (when the entity
resolver is installed) and the coder's ``primary_event_type`` is compared with ``event_type``.
Reported: per-type precision/recall/F1 (types in gold or predictions), macro-F1 over the gold
PLOVER types, accuracy of ``primary_event_type`` (null counts as a class), the share of no-event
answers per category, a confusion matrix (text, and PNG with ``--png``), the expected
calibration error of the primary type's confidence, and actor-country accuracy: each gold actor with a country is matched to a coded actor of the same item whose
text shares a content word with it; the score is correct countries / matched actors.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from pipelines.article import parse_published_at
from pipelines.config import positive_count
from pipelines.console import progress_counter

NONE_LABEL = "none"
STOP = {"the", "a", "an", "of", "and", "s", "'s", "in", "to", "for", "on", "president", "leader"}


def read_gold(path: str | Path) -> list[dict]:
    """Gold items from a JSONL file; raises ValueError on a malformed line."""
    items = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
            if not isinstance(item, dict) or "text" not in item or "event_type" not in item:
                raise ValueError(f"{path}:{n}: needs 'text' and 'event_type'")
            item.setdefault("id", f"line-{n}")
            items.append(item)
    return items


def load_resolver():
    """The entity resolver (loaded once per caller; the scripts share it through this function)."""
    from pipelines.nlp.entities import EntityResolver

    return EntityResolver.load()


def predict(items: list[dict], nlp=None, coder=None, resolver="auto", batch_size: int = 32,
            progress=None) -> list[dict]:
    """Run the coder over gold items: [{'primary': str|None, 'events': [...]}, ...] in order
    (``progress``: a ``pipelines.console`` counter told of each item)."""
    from pipelines.nlp.annotate import annotate
    from pipelines.nlp.events import EventCoder
    from pipelines.nlp.ner import load_nlp

    nlp = nlp or load_nlp()
    coder = coder or EventCoder.load()
    if resolver == "auto":
        resolver = load_resolver()
    out = []
    for title_doc, body_doc, published in parse_items(items, nlp, batch_size):
        _, events, primary = annotate(title_doc, body_doc, published, coder, resolver)
        out.append({"primary": primary, "events": events})
        if progress is not None:
            progress.update()
    return out


def parse_items(items: list[dict], nlp, batch_size: int = 32):
    """(title doc, body doc, published_at) per gold item, in order: the coder's input."""
    from pipelines.nlp.annotate import parse

    docs = parse(nlp, (item.get("title") or "" for item in items), (item["text"] for item in items), batch_size)
    for item, (title_doc, body_doc) in zip(items, docs):
        yield title_doc, body_doc, parse_published_at(item.get("published_at"))


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error over equal-width confidence bins (0.0 for no items)."""
    totals = [[0.0, 0] for _ in range(bins)]
    for conf, right in zip(confidences, correct):
        b = totals[min(int(conf * bins), bins - 1)]
        b[0] += conf
        b[1] += right
    return sum(abs(c - r) for c, r in totals) / len(confidences) if confidences else 0.0


def content_words(text: str) -> set[str]:
    """Lower-case words of a span but stop words: a coded actor matches a gold one when they share one."""
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOP and len(w) > 1}


def evaluate(items: list[dict], predictions: list[dict]) -> dict:
    """Scores of predictions against gold items (pure function; see the module docstring)."""
    gold = [item["event_type"] or NONE_LABEL for item in items]
    pred = [p["primary"] or NONE_LABEL for p in predictions]
    labels = sorted(set(gold) | set(pred), key=lambda x: (x == NONE_LABEL, x))
    per_type = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == p == label)
        fp = sum(1 for g, p in zip(gold, pred) if p == label and g != label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_type[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    gold_types = sorted({g for g in gold if g != NONE_LABEL})
    macro = sum(per_type[t]["f1"] for t in gold_types) / len(gold_types) if gold_types else 0.0
    accuracy = sum(1 for g, p in zip(gold, pred) if g == p) / len(gold) if gold else 0.0
    confusion = Counter(zip(gold, pred))

    by_category = defaultdict(lambda: [0, 0])
    for item, p in zip(items, pred):
        if item.get("event_type") is None and item.get("category"):
            by_category[item["category"]][0] += p == NONE_LABEL
            by_category[item["category"]][1] += 1
    none_rate = {cat: {"no_event": n, "items": total, "rate": n / total}
                 for cat, (n, total) in sorted(by_category.items())}

    matched = correct = gold_actors = 0
    mismatches = []
    for item, p in zip(items, predictions):
        coded = [a for ev in p["events"] for a in (ev["source_actor"], ev["target_actor"]) if a]
        for role in ("source_actor", "target_actor"):
            g = item.get(role)
            if not g or not g.get("country"):
                continue
            gold_actors += 1
            words = content_words(g["text"])
            hit = next((a for a in coded if words & content_words(a["text"])), None)
            if hit is None:
                continue
            matched += 1
            if hit["country"] == g["country"]:
                correct += 1
            else:
                mismatches.append({"id": item["id"], "gold": g, "coded": hit})
    # Calibration of the confidence of each item's primary type: expected calibration error
    # over ten equal-width bins (confidence = the best confidence among events of that type).
    confidences, right = [], []
    for g, p, prediction in zip(gold, pred, predictions):
        if p != NONE_LABEL:
            confidences.append(max(e["confidence"] for e in prediction["events"] if e["event_type"] == p))
            right.append(g == p)
    ece, scored = expected_calibration_error(confidences, right), len(confidences)
    return {
        "items": len(items), "ece": ece, "ece_items": scored, "labels": labels, "per_type": per_type, "macro_f1": macro,
        "macro_f1_types": gold_types, "primary_accuracy": accuracy,
        "confusion": {f"{g}|{p}": n for (g, p), n in confusion.items()},
        "no_event_rate": none_rate,
        "actor_country": {"gold_actors": gold_actors, "matched": matched, "correct": correct,
                          "accuracy": correct / matched if matched else 0.0,
                          "coverage": matched / gold_actors if gold_actors else 0.0,
                          "mismatches": mismatches},
        "predictions": [{"id": item.get("id"), "gold": g, "primary": p,
                         "events": [[e["event_type"], e.get("field"), e["confidence"]] for e in prediction["events"]]}
                        for item, g, p, prediction in zip(items, gold, pred, predictions)],
    }


def confusion_table(report: dict) -> str:
    """The confusion matrix as fixed-width text (rows gold, columns predicted)."""
    labels = report["labels"]
    short = [lab[:4] for lab in labels]
    lines = ["gold \\ pred".ljust(12) + " ".join(s.rjust(4) for s in short)]
    for g in labels:
        row = [report["confusion"].get(f"{g}|{p}", 0) for p in labels]
        lines.append(g[:11].ljust(12) + " ".join((str(n) if n else ".").rjust(4) for n in row))
    return "\n".join(lines)


def format_report(report: dict) -> str:
    """Human-readable summary."""
    out = [f"items: {report['items']}", "", f"{'type':<12}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}"]
    for label in report["labels"]:
        s = report["per_type"][label]
        out.append(f"{label:<12}{s['precision']:7.3f}{s['recall']:7.3f}{s['f1']:7.3f}{s['support']:6d}")
    out += ["", f"macro-F1 ({len(report['macro_f1_types'])} gold types): {report['macro_f1']:.3f}",
            f"primary_event_type accuracy: {report['primary_accuracy']:.3f}",
            f"confidence calibration (ECE, {report['ece_items']} coded items): {report['ece']:.3f}"]
    for cat, s in report["no_event_rate"].items():
        out.append(f"no-event rate [{cat}]: {s['rate']:.3f} ({s['no_event']}/{s['items']})")
    ac = report["actor_country"]
    out.append(f"actor country accuracy: {ac['accuracy']:.3f} ({ac['correct']}/{ac['matched']} coded actors "
               f"matched to gold; {ac['matched']}/{ac['gold_actors']} gold actors found)")
    out += ["", "confusion matrix (rows gold, columns predicted):", confusion_table(report)]
    return "\n".join(out)


def write_png(report: dict, path: str | Path) -> None:
    """Confusion-matrix heat map (matplotlib, Agg backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = report["labels"]
    grid = np.array([[report["confusion"].get(f"{g}|{p}", 0) for p in labels] for g in labels])
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if grid[i, j]:
                ax.text(j, i, str(grid[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if grid[i, j] > grid.max() / 2 else "black")
    ax.set_title(f"PLOVER primary event type (macro-F1 {report['macro_f1']:.2f})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _unwritable(flag: str, path: str) -> str | None:
    """Why ``path`` (an output file) cannot be written, checked before the scoring, or None."""
    if Path(path).is_dir():
        return f"cannot write {flag} {path}: it is a folder (give a file name)"
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        return f"cannot write {flag} {path}: no folder {folder}"
    if not os.access(folder, os.W_OK):
        return f"cannot write {flag} {path}: folder {folder} is not writable"
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow eval events",
                                     description="Score the PLOVER event coder against a gold JSONL file.")
    parser.add_argument("--gold", required=True, metavar="FILE", help="gold JSONL (format: see docs/eval-events.md)")
    parser.add_argument("--png", metavar="FILE", help="write the confusion matrix as a PNG here")
    parser.add_argument("--json", metavar="FILE", help="write the full report (with every item's prediction) as JSON here")
    parser.add_argument("--no-resolver", action="store_true",
                        help="use spaCy's entities instead of the entity resolver")
    parser.add_argument("--limit", type=positive_count, metavar="N", help="score only the first N items")
    parser.add_argument("--resources", metavar="DIR", help="load the coder's weights and dictionaries from this folder")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        items = read_gold(args.gold)
    except OSError as exc:
        print(f"newsflow eval events: cannot read {args.gold}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"newsflow eval events: {exc}", file=sys.stderr)
        return 2
    # The outputs before the scoring, which takes minutes on a whole gold set.
    for flag, path in (("--png", args.png), ("--json", args.json)):
        problem = path and _unwritable(flag, path)
        if problem:
            print(f"newsflow eval events: {problem}", file=sys.stderr)
            return 2
    if args.limit:
        items = items[: args.limit]
    if not items:
        print(f"newsflow eval events: no items in {args.gold}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    from pipelines.nlp.events import EventCoder
    coder = EventCoder.load(args.resources) if args.resources else None
    with progress_counter("eval events", total=len(items), unit="item(s)") as progress:
        predictions = predict(items, coder=coder, resolver=None if args.no_resolver else "auto", progress=progress)
    report = evaluate(items, predictions)
    print(format_report(report))
    print(f"\n({len(items)} items in {time.perf_counter() - started:.1f}s)")
    if args.png:
        write_png(report, args.png)
        print(f"confusion matrix PNG: {args.png}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
