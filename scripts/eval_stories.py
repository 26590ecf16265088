"""Precision and recall of "same story" (story_id), and the cost of assigning stories in a replay.

    .venv/bin/python scripts/eval_stories.py                    # two BBC replays (without, with stories), then (a) and (b)
    .venv/bin/python scripts/eval_stories.py --enriched DIR     # score an existing replay's output instead
    .venv/bin/python scripts/eval_stories.py --enriched DIR --cost-sample 300   # ... and time replays of 300

(a) BBC archive (``../shared/data/archive/bbc_news_2004_2005.jsonl``, 2,225 articles, some stored
    twice under different ids): the duplicate groups by text identity (identical normalized body,
    or word 5-shingle Jaccard >= 0.8, computed exactly) against the stories. Recall: duplicate
    pairs given one story. Precision: same-story pairs that are duplicates, for the near-copy rule
    alone (a duplicate detector) and for the full matcher (a lower bound: same-event pairs that
    are not copies count against it).
(b) labelled pairs (``data/eval/story_pairs.jsonl``, codebook ``docs/story-codebook.md``):
    precision and recall of "same" for the stories of the full replay, scored once.

The cost: the BBC replay is run twice in this run, with ``--no-stories`` and with stories, and
the ratio of their throughputs is printed (plus the in-process time of the story step alone).
Stops with one line (exit 2) when the archive is missing.
"""
from __future__ import annotations

import argparse
import itertools
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipelines.nlp.stories import StoryConfig, assign_in_order, signature, shingles  # noqa: E402

ARCHIVE = "data/archive/bbc_news_2004_2005.jsonl"
NEAR_COPY = 0.8


def read_enriched(folder: Path) -> list[dict]:
    import fastavro

    records = []
    for path in sorted(folder.glob("dt=*/*.avro")):
        with path.open("rb") as f:
            records.extend(fastavro.reader(f))
    return records


def replay(archive: Path, out: Path, stories: bool) -> tuple[float, float]:
    """Run ``newsflow replay`` over the archive; its wall time and the CPU time of it and its workers."""
    cmd = [str(REPO / ".venv" / "bin" / "newsflow"), "replay", "--input", str(archive), "--avro-dir", str(out),
           "--processed-at", "2026-12-01T00:00:00Z", "--no-progress", "--record-timeout-seconds", "0"] + ([] if stories else ["--no-stories"])
    print("$", " ".join(cmd), flush=True)
    started, cpu = time.monotonic(), _children_cpu()
    subprocess.run(cmd, check=True)
    return time.monotonic() - started, _children_cpu() - cpu


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (and of the workers they waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def identity_groups(articles: list[dict]) -> list[set[str]]:
    """Groups of articles whose bodies are identical (normalized) or near copies (exact shingle Jaccard)."""
    sets = {a["id"]: shingles(a["body"]) for a in articles}
    postings = defaultdict(list)
    for article_id, items in sets.items():
        for item in items:
            postings[item].append(article_id)
    shared = Counter()
    for ids in postings.values():
        if len(ids) <= 50:  # boilerplate shingles pair everything and prove nothing
            shared.update(itertools.combinations(sorted(ids), 2))
    parent = {a: a for a in sets}

    def root(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    normalized = defaultdict(list)
    for a in articles:
        normalized[re.sub(r"\s+", " ", a["body"]).strip().lower()].append(a["id"])
    links = [ids for ids in normalized.values() if len(ids) > 1]
    for (a, b), n in shared.items():
        if n / len(sets[a] | sets[b]) >= NEAR_COPY:
            links.append([a, b])
    for ids in links:
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    groups = defaultdict(set)
    for a in sets:
        groups[root(a)].add(a)
    return [g for g in groups.values() if len(g) > 1]


def pairs_of(groups) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for g in groups for p in itertools.combinations(sorted(g), 2)}


def story_groups(stories: dict[str, str]) -> list[set[str]]:
    members = defaultdict(set)
    for article_id, story in stories.items():
        if story:
            members[story].add(article_id)
    return [m for m in members.values() if len(m) > 1]


def prf(tp: int, predicted: int, actual: int) -> str:
    p = tp / predicted if predicted else float("nan")
    r = tp / actual if actual else float("nan")
    f = 2 * p * r / (p + r) if predicted and actual and tp else 0.0
    return f"precision {p:.3f} ({tp}/{predicted}), recall {r:.3f} ({tp}/{actual}), F1 {f:.3f}"


def read_pairs(path: Path) -> list[tuple[str, str, bool]]:
    """(id, id, same?) from the labelled pairs file (keys a/b or id_a/id_b, label same/different)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        a = row.get("a") or row.get("id_a") or row.get("left")
        b = row.get("b") or row.get("id_b") or row.get("right")
        label = row.get("label", row.get("same"))
        same = label is True or str(label).lower() in ("same", "1", "true", "yes")
        out.append((a, b, same))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--shared", default=str(REPO.parent / "shared"), help="the shared data folder (default ../shared)")
    parser.add_argument("--enriched", default=None, help="an existing replay output of the BBC archive (skips the replays)")
    parser.add_argument("--pairs", default=str(REPO / "data" / "eval" / "story_pairs.jsonl"), help="labelled pairs")
    parser.add_argument("--no-pairs", action="store_true", help="do not score the labelled pairs")
    parser.add_argument("--cost-sample", type=int, default=0, metavar="N",
                        help="measure the cost on replays of the archive's first N articles only (default 0: "
                             "the whole archive, whose story ids are then the ones scored)")
    args = parser.parse_args(argv)
    archive = Path(args.shared) / ARCHIVE
    if not archive.exists():  # the one-line form every measuring script uses (scripts/_shared.py)
        print(f'scripts/eval_stories.py: needs {archive} (not in this clone; see README "Measuring")', file=sys.stderr)
        return 2
    articles = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines() if line.strip()]

    with tempfile.TemporaryDirectory(prefix="eval-stories-") as scratch:
        if args.cost_sample or not args.enriched:
            source = archive
            if args.cost_sample:
                source = Path(scratch) / "sample.jsonl"
                source.write_text("".join(line + "\n" for line in archive.read_text(encoding="utf-8")
                                          .splitlines()[:args.cost_sample]), encoding="utf-8")
            without = replay(source, Path(scratch) / "without", stories=False)
            with_stories = replay(source, Path(scratch) / "with", stories=True)
            measured = read_enriched(Path(scratch) / "with")
            n = len(measured)
            (without, without_cpu), (with_stories, with_cpu) = without, with_stories
            print(f"cost: replay of {n} articles without stories {without:.1f} s wall, {without_cpu:.1f} s CPU "
                  f"({n / without:.2f} articles/s); with stories {with_stories:.1f} s wall, {with_cpu:.1f} s CPU "
                  f"({n / with_stories:.2f} articles/s); throughput ratio with/without: wall "
                  f"{without / with_stories:.3f}, CPU {without_cpu / with_cpu:.3f}")
        records = read_enriched(Path(args.enriched)) if args.enriched else measured
    started, cpu = time.monotonic(), time.process_time()
    signatures = [signature(r) for r in records]
    full = assign_in_order(signatures, StoryConfig())
    step, cpu = time.monotonic() - started, time.process_time() - cpu
    print(f"story step alone, in one process: {step:.2f} s wall, {cpu:.2f} s CPU for {len(records)} articles "
          f"({1000 * cpu / max(len(records), 1):.2f} ms CPU an article)")
    replayed = {r["id"]: r.get("story_id") for r in records}
    if any(replayed.values()):
        agree = sum(replayed[k] == full[k] for k in full)
        print(f"the replay's story ids equal the in-order assignment for {agree}/{len(full)} articles")
        stories = replayed
    else:
        stories = full
    copies_only = assign_in_order(signatures, StoryConfig(min_shared_entities=10 ** 9))

    truth = identity_groups(articles)
    truth_pairs = pairs_of(truth)
    print(f"(a) BBC archive: {len(articles)} articles, {len(truth)} duplicate groups by text identity "
          f"({sum(map(len, truth))} articles, {len(truth_pairs)} pairs)")
    for name, assigned in (("near-copy rule alone", copies_only), ("full matcher", stories)):
        groups = story_groups(assigned)
        predicted = pairs_of(groups)
        found = sum(1 for g in truth if len({assigned[a] for a in g}) == 1)
        print(f"    {name}: {len(groups)} stories of 2+ articles; duplicate groups found whole {found}/{len(truth)}; "
              f"same-story pairs: {prf(len(predicted & truth_pairs), len(predicted), len(truth_pairs))}")

    pairs_path = Path(args.pairs)
    if args.no_pairs:
        return 0
    if not pairs_path.exists():
        print(f"(b) labelled pairs: {pairs_path} not found; not scored")
        return 0
    pairs = read_pairs(pairs_path)
    missing = [(a, b) for a, b, _ in pairs if a not in stories or b not in stories]
    scored = [(a, b, same) for a, b, same in pairs if a in stories and b in stories]
    predicted = [stories[a] is not None and stories[a] == stories[b] for a, b, _ in scored]
    tp = sum(1 for (_, _, same), p in zip(scored, predicted) if same and p)
    print(f"(b) labelled pairs {pairs_path.name}: {len(pairs)} pairs, {sum(s for _, _, s in pairs)} same"
          + (f", {len(missing)} not in the replay (skipped)" if missing else ""))
    print(f"    full matcher: {prf(tp, sum(predicted), sum(s for _, _, s in scored))}")
    copies = [copies_only[a] == copies_only[b] for a, b, _ in scored]
    tp = sum(1 for (_, _, same), p in zip(scored, copies) if same and p)
    print(f"    near-copy rule alone: {prf(tp, sum(copies), sum(s for _, _, s in scored))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
