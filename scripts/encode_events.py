"""Encode every training text of the event classifier once and store the vectors (release 3.23).

scripts/fold_events.py (``--vectors``), scripts/loso_events.py and scripts/train_events.py
(``--vectors``) encode headlines and leads through ``train_events.CachedEncoder``, which starts
from the vectors stored here (out/vectors/<encoder>/*.npz, keyed by the SHA-1 of each text).
Without the store, each fold process encodes the ~47,000 training headlines and leads again:
with WordLlama + MiniLM about 80 texts a second on one core, ten minutes a process.

The texts are every headline and every lead of ``event_data.training_items`` (the rows the
classifier is fitted and scored on) that the store does not hold yet. ``--part K --of N`` encodes
the K-th of N shares, so N processes can run side by side (one thread each on a small machine);
each writes its own file (under a temporary name first, so a reader never sees half of one). A
vector depends only on its text and the encoder; every file also holds the vectors of a few probe
sentences (``train_events.PROBE``), and a file whose probes the encoder no longer gives (its code
or weights changed under the same name) is refused when read.

Usage: OMP_NUM_THREADS=1 nice -n 10 python scripts/encode_events.py [--encoder wordllama+minilm]
       [--part K --of N] [--shared ../shared]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, require, training_items  # noqa: E402
from train_events import (PROBE, VECTORS, add_encoder_option, encoder_name, load_encoder,  # noqa: E402
                          stored_vectors, text_key, vector_folder)

BATCH = 256


def training_texts(items: list[dict]) -> list[str]:
    """Every non-empty headline and lead of the training items, sorted, each once."""
    return sorted({t for i in items for t in (i.get("title") or "", i["text"]) if t})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--store", type=Path, default=VECTORS, help="the vector store (default out/vectors)")
    parser.add_argument("--part", type=int, default=1, help="which share to encode, 1..N (default 1)")
    parser.add_argument("--of", type=int, default=1, help="the number of shares N (default 1)")
    add_encoder_option(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.part <= args.of:
        parser.error(f"--part must lie in 1..{args.of}")
    require(args.shared, BBC)
    encoder = load_encoder(encoder_name(args.encoder))
    known = stored_vectors(args.store, encoder)
    texts = training_texts(training_items(args.shared))
    # the share is taken before the stored texts go, so a share written first leaves the others as they are
    todo = [t for t in texts[args.part - 1::args.of] if text_key(t) not in known]
    print(f"{len(texts)} training texts, {len(known)} vectors stored for {encoder.name}; "
          f"share {args.part} of {args.of}: {len(todo)} to encode", file=sys.stderr)
    if not todo:
        return 0
    t0, vectors = time.time(), []
    for start in range(0, len(todo), BATCH):
        vectors.append(encoder.encode(todo[start:start + BATCH]))
        done = start + len(vectors[-1])
        rate = done / max(time.time() - t0, 1e-9)
        print(f"  {done}/{len(todo)} ({rate:.1f} a second, about {(len(todo) - done) / rate / 60:.0f} min left)",
              file=sys.stderr, flush=True)
    keys = [text_key(t) for t in todo]
    folder = vector_folder(args.store, encoder.name)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"vectors-{text_key(''.join(keys))[:12]}.npz"
    partial = folder / f".{path.stem}-{os.getpid()}.npz.part"
    with open(partial, "wb") as f:
        np.savez(f, keys=np.array(keys), vectors=np.vstack(vectors).astype(np.float32),
                 probe=encoder.encode(list(PROBE)).astype(np.float32))
    os.replace(partial, path)
    print(f"wrote {path} ({len(keys)} vectors, {time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
