"""Build the same-story evaluation pairs (docs/story-pairs.md, codebook docs/story-codebook.md).

    python scripts/make_story_pairs.py select   # -> data/eval/story_pairs_work/candidates.jsonl
    python scripts/make_story_pairs.py show FROM TO [--blind FILE]   # print pairs for reading
    python scripts/make_story_pairs.py merge    # labels pass 1 -> data/eval/story_pairs.jsonl + sha256
    python scripts/make_story_pairs.py kappa    # pass 1 vs pass 2 on the re-labelled sample

Selection is deterministic (seed 20261201): TF-IDF (sublinear, English stop words, min_df 2)
cosine of the bodies over the 2,225 BBC articles in ../shared, then fixed-size random draws
from strata (see STRATA). Texts never leave ../shared; only ids, labels and notes are written.
"""
import hashlib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT.parent / "shared" / "data" / "archive" / "bbc_news_2004_2005.jsonl"
if not ARCHIVE.exists():
    ARCHIVE = Path("/work/shared/data/archive/bbc_news_2004_2005.jsonl")
WORK = ROOT / "data" / "eval" / "story_pairs_work"
OUT = ROOT / "data" / "eval" / "story_pairs.jsonl"
SEED = 20261201

# stratum -> number of pairs drawn (before the cross-stratum de-duplication, which keeps the
# first stratum a pair is drawn in, in this order)
STRATA = [
    ("dup", 40),          # identical body text, or cosine >= 0.9 (near copies)
    ("vhigh", 70),        # same category, 0.5 <= cos < 0.9
    ("high", 70),         # same category, 0.35 <= cos < 0.5
    ("medium", 55),       # same category, 0.2 <= cos < 0.35
    ("cross", 30),        # different categories, cos >= 0.15
    ("title_rare", 55),   # titles share a rare capitalised word (df <= 5 among titles), cos < 0.5
    ("random", 40),       # uniform random pair of distinct texts
]
# Second draw, added after pass 1 of labelling found only 22% "same" in the first 360 pairs
# (the codebook is strict: most high/medium-similarity pairs are related but different events).
# Chosen by stratum only, never by label: every remaining "vhigh" pair and 60 more "dup" pairs.
# Numbered after the first draw (n >= 360) and shuffled among themselves.
SUPPLEMENT = [("vhigh", None), ("dup", 60)]


def load():
    return [json.loads(line) for line in ARCHIVE.open(encoding="utf-8")]


def norm(text):
    return re.sub(r"\s+", " ", text).strip().lower()


def similarity(arts):
    from sklearn.feature_extraction.text import TfidfVectorizer
    vec = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=2)
    x = vec.fit_transform([a["title"] + "\n" + a["body"] for a in arts])
    return (x @ x.T).toarray()


def select():
    arts = load()
    n = len(arts)
    sim = similarity(arts)
    bodies = [norm(a["body"]) for a in arts]
    # canonical representative of each identical-body group: duplicates are only paired with
    # each other in the "dup" stratum, every other stratum uses representatives only
    first = {}
    canon = []
    for i, b in enumerate(bodies):
        first.setdefault(b, i)
        canon.append(first[b])
    rep = [i for i in range(n) if canon[i] == i]
    iu = np.triu_indices(n, 1)
    s = sim[iu]
    pools = {k: [] for k, _ in STRATA}
    for i, j, c in zip(iu[0], iu[1], s):
        i, j, c = int(i), int(j), float(c)
        same_cat = arts[i]["category"] == arts[j]["category"]
        if bodies[i] == bodies[j] or c >= 0.9:
            pools["dup"].append((i, j, c))
            continue
        if canon[i] != i or canon[j] != j:
            continue
        if same_cat and 0.5 <= c:
            pools["vhigh"].append((i, j, c))
        elif same_cat and 0.35 <= c:
            pools["high"].append((i, j, c))
        elif same_cat and 0.2 <= c:
            pools["medium"].append((i, j, c))
        elif not same_cat and c >= 0.15:
            pools["cross"].append((i, j, c))
    # rare capitalised title words
    words = [set(w for w in re.findall(r"\b[A-Z][a-zA-Z'-]{2,}\b", a["title"])) for a in arts]
    df = Counter(w for ws in words for w in ws)
    by_word = {}
    for i in rep:
        for w in words[i]:
            if df[w] <= 5:
                by_word.setdefault(w, []).append(i)
    tr = set()
    for w, ids in by_word.items():
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                i, j = sorted((ids[x], ids[y]))
                if sim[i, j] < 0.5:
                    tr.add((i, j, float(sim[i, j])))
    pools["title_rare"] = sorted(tr)
    rng = random.Random(SEED)
    chosen, seen = [], set()
    for name, k in STRATA:
        if name == "random":
            pool = []
            while len(pool) < k:
                i, j = sorted(rng.sample(rep, 2))
                if (i, j) not in seen:
                    pool.append((i, j, float(sim[i, j])))
                    seen.add((i, j))
            draw = pool
        else:
            pool = [p for p in pools[name] if (p[0], p[1]) not in seen]
            draw = rng.sample(pool, min(k, len(pool)))
        for i, j, c in sorted(draw, key=lambda p: (p[0], p[1])):
            seen.add((i, j))
            chosen.append({"a": arts[i]["id"], "b": arts[j]["id"], "stratum": name,
                           "cos": round(c, 3)})
        print(f"{name}: pool {len(pools.get(name, [])) if name != 'random' else '-'}, drawn {len(draw)}")
    # presentation order is shuffled so that labelling does not proceed stratum by stratum
    order = list(range(len(chosen)))
    rng.shuffle(order)
    rows = [{"n": k, "draw": 1, **chosen[idx]} for k, idx in enumerate(order)]
    extra = []
    for name, k in SUPPLEMENT:
        pool = [p for p in pools[name] if (p[0], p[1]) not in seen]
        draw = pool if k is None else rng.sample(pool, min(k, len(pool)))
        for i, j, c in sorted(draw, key=lambda p: (p[0], p[1])):
            seen.add((i, j))
            extra.append({"a": arts[i]["id"], "b": arts[j]["id"], "stratum": name,
                          "cos": round(c, 3)})
        print(f"supplement {name}: drawn {len(draw)}")
    rng.shuffle(extra)
    rows += [{"n": len(rows) + k, "draw": 2, **e} for k, e in enumerate(extra)]
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / "candidates.jsonl").open("w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(len(rows), "pairs ->", WORK / "candidates.jsonl")


def show(lo, hi, chars=480, blind_file=None):
    """Print pairs for reading: ids, titles and the start of both bodies. No stratum, no score."""
    arts = {a["id"]: a for a in load()}
    if blind_file:
        pairs = [json.loads(l) for l in open(blind_file)]
    else:
        pairs = [json.loads(l) for l in (WORK / "candidates.jsonl").open()]
    for p in pairs[lo:hi]:
        a, b = arts[p["a"]], arts[p["b"]]
        print(f"=== #{p['n']}  {a['id']} | {b['id']}")
        for x in (a, b):
            body = re.sub(r"\s+", " ", x["body"]).strip()
            print(f"  [{x['id']}] {x['title']} :: {body[:chars]}")


def read_labels(path):
    """Label files: one line per pair, 'n<TAB>s|d<TAB>note'."""
    out = {}
    for line in open(path, encoding="utf-8"):
        if not line.strip() or line.startswith("#"):
            continue
        n, lab, *note = line.rstrip("\n").split("\t")
        out[int(n)] = ({"s": "same", "d": "different"}[lab.strip()], note[0] if note else "")
    return out


def merge():
    pairs = [json.loads(l) for l in (WORK / "candidates.jsonl").open()]
    labels = read_labels(WORK / "labels_pass1.tsv")
    missing = [p["n"] for p in pairs if p["n"] not in labels]
    if missing:
        sys.exit(f"unlabelled pairs: {missing[:20]} ... ({len(missing)})")
    with OUT.open("w") as f:
        for p in sorted(pairs, key=lambda p: p["n"]):
            lab, note = labels[p["n"]]
            f.write(json.dumps({"a": p["a"], "b": p["b"], "label": lab, "stratum": p["stratum"],
                                "draw": p["draw"], "cos": p["cos"], "note": note}) + "\n")
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    (OUT.parent / "story_pairs.sha256").write_text(f"{digest}  story_pairs.jsonl\n")
    table = Counter((p["stratum"], labels[p["n"]][0]) for p in pairs)
    for name, _ in STRATA:
        print(f"{name:11s} same {table[(name, 'same')]:3d}  different {table[(name, 'different')]:3d}")
    tot = Counter(l for l, _ in labels.values())
    print("total", len(pairs), dict(tot), digest)


def make_blind(k=60):
    pairs = [json.loads(l) for l in (WORK / "candidates.jsonl").open()]
    rng = random.Random(SEED + 1)
    sample = rng.sample(pairs, k)
    with (WORK / "blind_sample.jsonl").open("w") as f:
        for p in sample:  # already in random order; no stratum / score / label
            f.write(json.dumps({"n": p["n"], "a": p["a"], "b": p["b"]}) + "\n")


def _kappa(one, two, ns):
    a = [one[n][0] for n in ns]
    b = [two[n][0] for n in ns]
    po = sum(x == y for x, y in zip(a, b)) / len(ns)
    pe = sum((a.count(c) / len(ns)) * (b.count(c) / len(ns)) for c in ("same", "different"))
    return po, (po - pe) / (1 - pe)


def kappa():
    one = read_labels(WORK / "labels_pass1.tsv")
    two = read_labels(WORK / "labels_pass2.tsv")
    strata = {p["n"]: p["stratum"] for p in map(json.loads, (WORK / "candidates.jsonl").open())}
    ns = sorted(two)
    nd = [n for n in ns if strata[n] != "dup"]
    po, k = _kappa(one, two, nd)
    print(f"without the dup stratum: n={len(nd)} agreement={po:.3f} kappa={k:.3f} "
          f"(pass-1 same {sum(one[n][0] == 'same' for n in nd)}, pass-2 same "
          f"{sum(two[n][0] == 'same' for n in nd)})")
    a = [one[n][0] for n in ns]
    b = [two[n][0] for n in ns]
    po = sum(x == y for x, y in zip(a, b)) / len(ns)
    pe = sum((a.count(c) / len(ns)) * (b.count(c) / len(ns)) for c in ("same", "different"))
    k = (po - pe) / (1 - pe)
    print(f"n={len(ns)} agreement={po:.3f} kappa={k:.3f}")
    for n, x, y in zip(ns, a, b):
        if x != y:
            print("disagree", n, x, y, "|", one[n][1], "|", two[n][1])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "select":
        select()
    elif cmd == "show":
        blind = sys.argv[sys.argv.index("--blind") + 1] if "--blind" in sys.argv else None
        show(int(sys.argv[2]), int(sys.argv[3]), blind_file=blind)
    elif cmd == "blind":
        make_blind()
    elif cmd == "merge":
        merge()
    elif cmd == "kappa":
        kappa()
