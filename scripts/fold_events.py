"""Fit grouped-CV folds of the event classifier in separate processes and merge them into the
out-of-fold cache scripts/loso_events.py and scripts/train_events.py --oof-cache read.

The folds are independent and deterministic, so running them apart gives the same scores and
fold models as train_events.out_of_fold in one process; on a shared machine, one process per
fold finishes sooner. Each fold writes out/loso_events/<settings>/parts/<group>.npz and its fold model
(out/loso_events/<settings>/<group>/; before release 2.8 only a held-out real-news set's); the
settings folder is C<C>-w<weight>-enc, with "-<encoder>" after it for an encoder other than WordLlama;
``--merge`` writes oof.npz once every part is there.

Since release 3.23 the sentence vectors come from the store scripts/encode_events.py writes
(``--vectors``, default out/vectors); a text the store lacks is encoded as before.

Usage: nice -n 10 python scripts/fold_events.py --group GROUP [--C 2] [--real-weight 2] [--encoder wordllama] [--vectors DIR]
       python scripts/fold_events.py --merge [--C 2] [--real-weight 2] [--encoder wordllama]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from event_data import BBC, DEFAULT_SHARED, require, training_items  # noqa: E402
from loso_events import CACHE  # noqa: E402
from train_events import (REAL_WEIGHT, VECTORS, CachedEncoder, CachedExtractor, add_encoder_option,  # noqa: E402
                          add_headline_rows_option, encoder_folder, encoder_name, extractor_from, fit,
                          fold_fingerprint, headline_decisions, item_decisions, load_encoder, save)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--C", type=float, default=2.0)
    parser.add_argument("--real-weight", type=float, default=REAL_WEIGHT,
                        help=f"weight of real-news rows (default {REAL_WEIGHT:g}, as train_events.py)")
    parser.add_argument("--group", help="the group to hold out (a corpus writer w1..w14, bbc, tune, blind1..)")
    parser.add_argument("--merge", action="store_true", help="write oof.npz from the parts")
    parser.add_argument("--vectors", type=Path, default=VECTORS,
                        help="the vector store of scripts/encode_events.py (default out/vectors; release 3.23)")
    add_encoder_option(parser)
    add_headline_rows_option(parser)
    args = parser.parse_args(argv)
    require(args.shared, BBC)
    items = training_items(args.shared)
    folder = CACHE / encoder_folder(args.C, args.real_weight, args.encoder, args.headline_rows)
    groups = sorted({i["group"] for i in items})
    # release 3.23: a part or cache of other texts, labels, dictionaries or settings is refused
    fingerprint = fold_fingerprint(items, encoder_name(args.encoder), args.C, 1.0, args.real_weight,
                                   args.headline_rows)
    if args.merge:
        both = np.zeros((len(items), 16))
        alone = np.zeros_like(both)
        for g in groups:
            part = folder / "parts" / f"{g}.npz"
            if not part.exists():
                print(f"fold_events: {part} is missing; run --group {g} first", file=sys.stderr)
                return 1
            test = [n for n, i in enumerate(items) if i["group"] == g]
            with np.load(part) as f:
                if list(f["ids"]) != [items[n]["id"] for n in test]:
                    print(f"fold_events: {part} was written for other items; rerun --group {g}", file=sys.stderr)
                    return 1
                if "fingerprint" not in f or str(f["fingerprint"]) != fingerprint:
                    print(f"fold_events: {part} was written for other texts, labels, dictionaries or settings; "
                          f"rerun --group {g}", file=sys.stderr)
                    return 1
                both[test], alone[test] = f["both"], f["alone"]
        np.savez(folder / "oof.npz", ids=np.array([i["id"] for i in items]), both=both, alone=alone,
                 fingerprint=np.array(fingerprint))
        print(f"wrote {folder / 'oof.npz'} ({len(groups)} folds)")
        return 0
    if args.group not in groups:
        print(f"fold_events: no group {args.group!r}; groups: {', '.join(groups)}", file=sys.stderr)
        return 1
    t0 = time.time()
    extractor, encoder = CachedExtractor(extractor_from()), CachedEncoder(load_encoder(encoder_name(args.encoder)),
                                                                         args.vectors)
    test = [i for i in items if i["group"] == args.group]
    model = fit([i for i in items if i["group"] != args.group], extractor, encoder, args.C, 1.0, args.real_weight,
                args.headline_rows)
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    save(model, folder / args.group)   # every fold's model (release 2.8: cv_events.py --folds reads them)
    np.savez(folder / "parts" / f"{args.group}.npz", ids=np.array([i["id"] for i in test]),
             both=item_decisions(model, test), alone=headline_decisions(model, test), fingerprint=np.array(fingerprint))
    print(f"fold {args.group}: {len(items) - len(test)} training items, {len(test)} scored, "
          f"{encoder.stored} vectors from the store, {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
