"""scripts/actor_rules_events.py --folds: a seen set coded by the fold model that never saw it
(release 3.16's seen-set measure, docs/eval-events.md "Release 3.16 coder")."""
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))


def test_a_fold_model_takes_the_shipped_calibration_and_keeps_its_own_weights(tmp_path):
    from actor_rules_events import FOLD_GROUPS, fold_classifier
    from train_events import save

    from pipelines.nlp.events import EventCoder

    shipped = EventCoder.load().classifier
    fold = EventCoder.load().classifier   # a second copy, changed as a fold model differs
    fold.coef = fold.coef * 0.5
    fold.thresholds = np.full_like(fold.thresholds, 0.9)   # a fold's own thresholds are never used
    fold.platt = np.zeros_like(fold.platt)
    save(fold, tmp_path / "tune")
    got = fold_classifier(shipped, tmp_path / FOLD_GROUPS["devtune"])
    assert np.allclose(got.coef, shipped.coef * 0.5, atol=1e-6)
    assert np.array_equal(got.thresholds, shipped.thresholds) and np.array_equal(got.platt, shipped.platt)
    assert got.primary_rule == shipped.primary_rule and got.headline_shift == shipped.headline_shift
    assert all(np.array_equal(a, b) for a, b in zip(got.ranker, shipped.ranker))
    # its probabilities come from its own weights: an article scores differently than under the shipped ones
    title, lead = ["Troops shell border villages"], ["Artillery hit three villages overnight, officials said."]
    assert not np.allclose(got.predict_proba(title, lead), shipped.predict_proba(title, lead))
