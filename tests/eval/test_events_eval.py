"""`newsflow eval events`: metrics, report, PNG, errors, and the shipped gold sets."""
import json
import sys
from pathlib import Path

import pytest

from pipelines.eval.events import confusion_table, evaluate, main, read_gold
from pipelines.nlp.events import EVENT_TYPES, RANKED_RULES
from tests.fixtures import articles, stand_in_shared

REPO = Path(__file__).resolve().parents[2]


def ev(etype, source=None, target=None, confidence=0.8):
    return {"event_type": etype, "source_actor": source, "target_actor": target, "confidence": confidence}


def actor(text, country):
    return {"text": text, "entity_id": None, "country": country, "sector": None}


def test_evaluate_scores_types_accuracy_and_actor_countries():
    items = [
        {"id": "1", "text": "", "event_type": "ACCUSE", "source_actor": {"text": "Iran's leader", "country": "IRN"},
         "target_actor": {"text": "Donald Trump", "country": "USA"}},
        {"id": "2", "text": "", "event_type": "ACCUSE"},
        {"id": "3", "text": "", "event_type": "ASSAULT"},
        {"id": "4", "text": "", "event_type": None, "category": "sport"},
        {"id": "5", "text": "", "event_type": None, "category": "sport"},
    ]
    predictions = [
        {"primary": "ACCUSE", "events": [ev("ACCUSE", actor("Iran's supreme leader", "IRN"), actor("Trump", "GBR"))]},
        {"primary": None, "events": []},
        {"primary": "ASSAULT", "events": [ev("ASSAULT")]},
        {"primary": None, "events": []},
        {"primary": "ACCUSE", "events": [ev("ACCUSE")]},
    ]
    report = evaluate(items, predictions)
    accuse = report["per_type"]["ACCUSE"]
    assert accuse["precision"] == pytest.approx(0.5) and accuse["recall"] == pytest.approx(0.5)
    assert report["per_type"]["ASSAULT"]["f1"] == pytest.approx(1.0)
    assert report["macro_f1"] == pytest.approx((0.5 + 1.0) / 2)
    assert report["primary_accuracy"] == pytest.approx(3 / 5)
    assert report["no_event_rate"]["sport"] == {"no_event": 1, "items": 2, "rate": 0.5}
    countries = report["actor_country"]
    assert (countries["gold_actors"], countries["matched"], countries["correct"]) == (2, 2, 1)
    assert countries["accuracy"] == pytest.approx(0.5)
    assert report["confusion"]["ACCUSE|none"] == 1
    # three coded items, all at confidence 0.8 in one bin, two right: |2.4 - 2| / 3
    assert report["ece_items"] == 3 and report["ece"] == pytest.approx(0.4 / 3)
    table = confusion_table(report)
    assert table.splitlines()[0].startswith("gold") and "ASSAULT" in table


def test_read_gold_rejects_malformed_lines(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "event_type": null}\n{not json}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        read_gold(bad)
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="event_type"):
        read_gold(missing)


def test_main_reports_and_writes_png(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    rows = [
        {"id": "a", "title": "Police arrest opposition leaders in Minsk",
         "text": "Police arrested two opposition leaders in Minsk on Sunday.", "published_at": "2025-06-04",
         "event_type": "COERCE", "source_actor": {"text": "Police", "country": "BLR", "sector": "COP"}},
        {"id": "b", "title": "Hearts 2-1 Livingston",
         "text": "Hearts scored twice in the second half to beat Livingston at Tynecastle on Saturday. "
                 "The result leaves Hearts fourth in the table.", "event_type": None, "category": "sport"},
    ]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    png, report_json = tmp_path / "cm.png", tmp_path / "report.json"
    assert main(["--gold", str(gold), "--png", str(png), "--json", str(report_json)]) == 0
    out = capsys.readouterr().out
    assert "primary_event_type accuracy: 1.000" in out and "no-event rate [sport]: 1.000" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(report_json.read_text(encoding="utf-8"))
    assert report["actor_country"]["correct"] == 1


def test_main_fails_cleanly_on_unreadable_gold(tmp_path, capsys):
    assert main(["--gold", str(tmp_path / "nope.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("newsflow eval events:")


@pytest.mark.parametrize("name,minimum", [("events_dev_real.jsonl", 150), ("events_tune_real.jsonl", 150)])
def test_shipped_gold_sets_are_well_formed(name, minimum):
    items = read_gold(REPO / "data" / "eval" / name)
    assert len(items) >= minimum
    assert len({item["id"] for item in items}) == len(items)
    assert all(item["event_type"] in EVENT_TYPES or item["event_type"] is None for item in items)
    if name == "events_dev_real.jsonl":
        categories = {item.get("category") for item in items}
        assert {"sport", "entertainment"} <= categories
        assert sum(item["event_type"] is None for item in items) >= 60
        assert sum(item["event_type"] is not None for item in items) >= 40


SYNTHETIC_TEMPLATES = {
    "ACCUSE": ["{country} accuses {country} of spying", "{country} blames {country} for border attack"],
    "ASSAULT": ["Shelling hits {city}", "Militants attack army post near {city}", "Drone strike kills five in {city}"],
    "CONSULT": ["{country} and {country} hold talks in {city}", "Leaders of {country} meet in {city}"],
}


def test_news_labels_reach_training_unless_they_near_duplicate_a_corpus_item(tmp_path):
    from event_data import bbc_heldout, corpus_items, training_items

    path = REPO / "data" / "train" / "events_news_labels.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 600 and len({r["id"] for r in rows}) == len(rows)
    assert all(r["title_type"] in EVENT_TYPES + (None,) and r["lead_type"] in EVENT_TYPES + (None,) for r in rows)
    assert not any(bbc_heldout(r["id"]) for r in rows)
    # Texts come from the BBC archive (not in the repository): a stand-in archive gives labelled
    # ids the fixture stories; the first repeats a corpus item and must not reach training.
    labelled = [r for r in rows if not r.get("skip") and r["title_type"]][:6]
    corpus_item = corpus_items()[0]
    archive = [{"id": r["id"], "category": "politics", "title": a["title"], "body": a["body"]}
               for r, a in zip(labelled, articles())]
    archive[0]["title"], archive[0]["body"] = corpus_item["title"], corpus_item["text"]
    items = training_items(stand_in_shared(tmp_path, archive))
    bbc = {i["id"]: i for i in items if i["group"] == "bbc"}
    assert set(bbc) == {"bbc-" + r["id"] for r in labelled[1:]}
    for row in labelled[1:]:
        assert bbc["bbc-" + row["id"]]["event_type"] == row["title_type"]


def test_seen_blind_sets_are_training_groups_of_their_own():
    from event_data import REAL_NEWS_GROUPS, is_corpus, training_items

    items = training_items(shared=None)
    groups = {i["group"] for i in items}
    assert {"blind1", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9", "blind10", "blind11", "blind12", "blind13", "blind14", "blind15", "blind16", "blind17", "blind18", "blind21", "blind22", "blind23", "blind24", "blind25", "blind26", "blind27", "blind28", "blind29", "blind30", "blind31", "blind32", "blind33", "blind34", "blind35"} <= groups <= set(REAL_NEWS_GROUPS) | {f"w{n}" for n in range(1, 21)}
    assert all(i["id"].startswith(("b-", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14", "b15", "b16", "b17", "b18", "b21", "b22", "b23", "b24", "b25", "b26", "b27", "b28", "b29", "b30", "b31", "b32")) for i in items if i["group"].startswith("blind"))
    assert sum(1 for i in items if i["group"] == "blind3") == 680 and not is_corpus(items[-1])
    assert sum(1 for i in items if i["group"] == "blind4") == 679   # release 2.4: blind v4 is seen
    assert sum(1 for i in items if i["group"] == "blind5") == 679   # release 2.5: blind v5 is seen
    assert sum(1 for i in items if i["group"] == "blind6") == 679   # release 2.6: blind v6 is seen
    assert sum(1 for i in items if i["group"] == "blind7") == 680   # release 2.7: blind v7 is seen
    assert sum(1 for i in items if i["group"] == "blind8") == 680   # release 2.8: blind v8 is seen
    assert sum(1 for i in items if i["group"] == "blind9") == 680   # release 2.9: blind v9 is seen
    assert sum(1 for i in items if i["group"] == "blind10") == 680  # release 3.0: blind v10 is seen
    assert sum(1 for i in items if i["group"] == "blind11") == 675  # release 3.1: blind v11 is seen
    assert sum(1 for i in items if i["group"] == "blind12") == 675  # release 3.2: blind v12 is seen
    assert sum(1 for i in items if i["group"] == "blind13") == 676  # release 3.5: blind v13 is seen
    assert sum(1 for i in items if i["group"] == "blind14") == 674  # after 3.5: blind v14 is seen
    assert sum(1 for i in items if i["group"] == "blind15") == 670  # after 3.9: blind v15 is seen
    assert sum(1 for i in items if i["group"] == "blind16") == 679  # after 3.10: blind v16 is seen
    assert sum(1 for i in items if i["group"] == "blind17") == 671  # after 3.11: blind v17 is seen
    assert sum(1 for i in items if i["group"] == "blind18") == 667  # after 3.12: blind v18 is seen
    assert sum(1 for i in items if i["group"] == "blind21") == 657  # after 3.13: blind v21 is seen
    assert all(i["id"].startswith("b21") for i in items if i["group"] == "blind21")
    assert sum(1 for i in items if i["group"] == "blind22") == 668  # after 3.14: blind v22 is seen
    assert all(i["id"].startswith("b22") for i in items if i["group"] == "blind22")
    assert sum(1 for i in items if i["group"] == "blind23") == 660  # after 3.19: blind v23 is seen
    assert all(i["id"].startswith("b23") for i in items if i["group"] == "blind23")
    assert sum(1 for i in items if i["group"] == "blind24") == 665  # after 3.21: blind v24 is seen
    assert all(i["id"].startswith("b24") for i in items if i["group"] == "blind24")
    assert sum(1 for i in items if i["group"] == "blind25") == 672  # after 3.22: blind v25 is seen
    assert all(i["id"].startswith("b25") for i in items if i["group"] == "blind25")
    assert sum(1 for i in items if i["group"] == "blind26") == 663  # after 3.23: blind v26 is seen
    assert all(i["id"].startswith("b26") for i in items if i["group"] == "blind26")
    assert sum(1 for i in items if i["group"] == "blind27") == 655  # after 3.25: blind v27 is seen
    assert all(i["id"].startswith("b27") for i in items if i["group"] == "blind27")
    assert sum(1 for i in items if i["group"] == "blind28") == 657  # after 3.26: blind v28 is seen
    assert all(i["id"].startswith("b28") for i in items if i["group"] == "blind28")
    assert sum(1 for i in items if i["group"] == "blind29") == 641  # after 3.27: blind v29 is seen
    assert all(i["id"].startswith("b29") for i in items if i["group"] == "blind29")
    assert sum(1 for i in items if i["group"] == "blind30") == 654  # after 3.28: blind v30 is seen
    assert all(i["id"].startswith("b30") for i in items if i["group"] == "blind30")
    assert sum(1 for i in items if i["group"] == "blind31") == 669  # after 3.30: blind v31 is seen
    assert all(i["id"].startswith("b31") for i in items if i["group"] == "blind31")
    assert sum(1 for i in items if i["group"] == "blind32") == 659  # after 3.31: blind v32 is seen
    assert all(i["id"].startswith("b32") for i in items if i["group"] == "blind32")
    assert sum(1 for i in items if i["group"] == "blind33") == 648  # after 3.32: blind v33 is seen
    assert all(i["id"].startswith("b33") for i in items if i["group"] == "blind33")
    assert sum(1 for i in items if i["group"] == "blind34") == 647  # after 3.33: blind v34 is seen
    assert all(i["id"].startswith("b34") for i in items if i["group"] == "blind34")
    assert sum(1 for i in items if i["group"] == "blind35") == 650  # after 3.34: blind v35 is seen
    assert all(i["id"].startswith("b35") for i in items if i["group"] == "blind35")


def test_shipped_classifiers_are_release_3_14s_and_3_5s():
    # Release 3.14 (docs/eval-events.md, "Release 3.14 classifier") is release 3.13's recipe
    # retrained with every training group. Release 3.13 ("Release 3.13 classifier"): headline + lead are scored by
    # 3.12's recipe (thresholds chosen with headline-rank's primaries, a headline shift) on
    # WordLlama joined to MiniLM-L6, trained on every training group, with the primary rule
    # ranker-headline-verb-feature (3.10's ranker-headline-verb-fallback, whose learned ranker also
    # reads the types the headline's reliable verbs name) and the one threshold shift chosen on
    # the grid that may also lower the F1 thresholds, under a floor on the mean of the real-news
    # sets' own no-event rates (objective noevent-sets); body sentences keep release 3.5's
    # classifier (WordLlama, ranker-headline), trained before blind v14 was seen. The weights
    # record how many items they were fitted on; with ../shared present that is every training
    # item (3.5's: but those of the groups seen after it), without it at least the items that
    # need no shared text.
    from event_data import BBC, DEFAULT_SHARED, training_items

    from pipelines.nlp.encoder import MINILM, WORDLLAMA
    from pipelines.nlp.events import MODEL_VERSION

    base = REPO / "pipelines" / "resources" / "events"
    article = json.loads((base / "classifier.json").read_text(encoding="utf-8"))
    sentences = json.loads((base / "sentences" / "classifier.json").read_text(encoding="utf-8"))
    assert MODEL_VERSION == "plover-ovr-tfidf-wordllama-minilm-3.34"   # 3.34's weights (3.14's recipe), 3.33's actor rules (3.32's)
    assert "headline_rows" not in article and "headline_rows" not in sentences
    assert article["encoder"] == f"{WORDLLAMA}+{MINILM}" and sentences["encoder"] == WORDLLAMA
    assert article["primary_rule"] == "ranker-headline-verb-feature" and sentences["primary_rule"] == "ranker-headline"
    for meta in (article, sentences):
        assert meta["shift_rule"] == "headline-rank"
        assert meta["C"] == 2.0 and meta["real_weight"] == 2.0
        assert meta["lead_shift"] == 0.0 and 0.0 < meta["headline_shift"] <= 0.2
    assert article["shift_grid"] == "both" and article["objective"] == "noevent-sets"
    assert sentences["shift_grid"] == "raise" and sentences["objective"] == "sum"
    # blind v15-v18 became training data after 3.9-3.12 were scored, corpus writers w15-w17 were
    # added for 3.11 (whose retrain did not ship), blind v21 became training data after 3.13 was
    # scored and corpus writers w18-w20 were added for 3.14; 3.14's headline + lead classifier is
    # trained with all of them; blind v22 became training data after 3.14 was scored, v23 after
    # 3.19 (3.14's weights) was, v24 after 3.21 (the same weights) was, v25 after 3.22; 3.23's
    # headline + lead classifier is trained with v22-v25 (3.14's recipe, folds recomputed); v26
    # became training data after 3.23 was scored on it, and 3.25's headline + lead classifier is
    # trained with it (the same recipe, folds recomputed); v27 became training data after 3.25 was
    # scored on it, v28 after 3.26 (the same weights), and 3.27's headline + lead classifier is
    # trained with both (the same recipe, folds recomputed); v29 became training data after 3.27
    # was scored on it, and 3.28's headline + lead classifier is trained with it (the same recipe,
    # folds recomputed); v30 became training data after 3.28 was scored on it, and 3.30's headline
    # + lead classifier is trained with it (the same recipe, folds recomputed); v31 became training
    # data after 3.30 was scored on it, and 3.31's headline + lead classifier is trained with it
    # (the same recipe, folds recomputed); v32 became training data after 3.31 was scored on it,
    # and 3.32's headline + lead classifier is trained with it (the same recipe, folds recomputed);
    # v33 became training data after 3.32 was scored on it, and 3.33's headline + lead classifier
    # is trained with it (the same recipe, folds recomputed); v34 became training data after 3.33
    # was scored on it, and 3.34's headline + lead classifier is trained with it (the same recipe,
    # folds recomputed); v35 became training data after 3.34 was scored on it
    later_article = ("blind35",)
    later_sentences = ("blind14", "blind15", "blind16", "blind17", "blind18", "blind21", "blind22", "blind23", "blind24", "blind25", "blind26", "blind27", "blind28", "blind29", "blind30", "blind31", "blind32", "blind33", "blind34", "blind35", "w15", "w16", "w17", "w18", "w19", "w20")
    assert article.get("left_out", []) == list(later_article) and sentences["left_out"] == list(later_sentences)
    for meta, later in ((article, later_article), (sentences, later_sentences)):
        assert meta["training_items"] > sum(1 for i in training_items(shared=None) if i["group"] not in later)
        if (DEFAULT_SHARED / BBC).exists():
            assert meta["training_items"] == sum(1 for i in training_items(DEFAULT_SHARED) if i["group"] not in later)


def test_make_events_model_leaves_out_the_groups_seen_after_the_shipped_weights():
    # make events-model rebuilds the shipped releases: a set that became training data after the
    # weights were trained is left out by name, and a name that is no group is refused.
    from event_data import training_items
    from train_events import leave_out

    items = training_items(shared=None)
    kept = leave_out(items, ["blind14"])
    assert len(kept) == len(items) - 674 and not any(i["group"] == "blind14" for i in kept)
    with pytest.raises(ValueError, match="no training group named blind99"):
        leave_out(items, ["blind99"])
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("events-model:")[1].split("\n\n")[0]
    lines = [line for line in recipe.splitlines() if "train_events.py" in line]
    # body sentences: the 3.5 weights, trained before blind v14 was seen; headline + lead: 3.34's, before v35
    assert len(lines) == 2
    assert "--leave-out blind14 blind15 blind16 blind17 blind18 blind21 blind22 blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 w15 w16 w17 w18 w19 w20" in lines[0] and "--out pipelines/resources/events/sentences" in lines[0]
    assert "--encoder wordllama+minilm --rule ranker-headline-verb-feature" in lines[1]
    assert "--shift-grid both --objective noevent-sets" in lines[1]
    assert "--leave-out blind35 " in lines[1] and "--out " not in lines[1]
    assert "--oof-cache out/loso_events/C2-w2-enc-wordllama+minilm/oof.npz" in lines[1]


def test_hard_negatives_are_training_quarter_labels_mostly_without_an_event(tmp_path):
    from event_data import HARD_NEGATIVES, NEWS_LABELS, bbc_heldout, news_label_items

    rows = [json.loads(line) for line in HARD_NEGATIVES.read_text(encoding="utf-8").splitlines()]
    earlier = {json.loads(line)["id"] for line in NEWS_LABELS.read_text(encoding="utf-8").splitlines()}
    assert len(rows) == 330 and len({r["id"] for r in rows}) == 330 and not earlier & {r["id"] for r in rows}
    assert not any(bbc_heldout(r["id"]) for r in rows)
    assert {r["id"].split("-")[1] for r in rows} == {"sport", "entertainment", "tech"}
    assert all(r["title_type"] in EVENT_TYPES + (None,) and r["lead_type"] in EVENT_TYPES + (None,) for r in rows)
    assert sum(1 for r in rows if not r["title_type"] and not r["lead_type"]) >= 300
    # They reach training as BBC items (texts from a stand-in archive), and only when asked to.
    archive = [{"id": r["id"], "category": r["id"].split("-")[1], "title": a["title"], "body": a["body"]}
               for r, a in zip(rows, articles())]
    shared = stand_in_shared(tmp_path, archive)
    got = {i["id"]: i for i in news_label_items(shared)}
    assert set(got) == {"bbc-" + r["id"] for r in rows[: len(archive)]}
    assert all(got["bbc-" + r["id"]]["event_type"] == (r["title_type"] or r["lead_type"]) for r in rows[: len(archive)])
    assert not news_label_items(shared, hard_negatives=False)


def _row(*first):
    return list(first) + [0.0] * (len(EVENT_TYPES) - len(first))


def test_primary_rules_put_the_headline_first_then_rank_by_probability_or_margin():
    import numpy as np
    from train_events import primaries

    thr = np.array(_row(0.5, 0.8))
    thr[2:] = 0.9
    both = np.array([_row(0.65, 0.9), _row(0.65, 0.9), _row(0.65, 0.9), _row(0.4, 0.5)])
    alone = np.array([_row(0.0, 0.0), _row(0.3, 0.2), _row(0.55, 0.2), _row(0.4, 0.5)])
    has_title = np.array([False, True, True, True])
    # No headline, or a headline with no passing type: headline + lead decides; by probability
    # type 1 (0.9), by margin type 0 (0.15 over its threshold against 0.10). A headline's own
    # passing type wins either way; nothing passing is no event.
    assert primaries(both, alone, has_title, thr, "headline").tolist() == [1, 1, 0, -1]
    assert primaries(both, alone, has_title, thr, "margin").tolist() == [0, 0, 0, -1]
    # A lead shift (release 2.4) raises headline + lead's thresholds only for an item with a
    # headline that passes nothing: the second item loses its event, the others keep theirs.
    assert primaries(both, alone, has_title, thr, "headline", 0.2).tolist() == [1, -1, 0, -1]
    # "headline-rank" (release 2.6): every passing type ranked by the headline's own probability.
    # The second item's types pass on headline + lead only (type 1 ranked first there, 0.9), but
    # its headline ranks type 0 first (0.3 against 0.2); turn the headline round and type 1 wins.
    assert primaries(both, alone, has_title, thr, "headline-rank").tolist() == [1, 0, 0, -1]
    alone[1, :2] = 0.2, 0.3
    assert primaries(both, alone, has_title, thr, "headline-rank").tolist() == [1, 1, 0, -1]


def test_a_learned_ranker_picks_the_gold_type_the_headline_ranks_second():
    import numpy as np
    from train_events import fit_ranker, primaries, target_figures

    # Types 0 and 1 pass on every event item and the headline always scores type 0 higher; the
    # gold type is the one headline + lead scores higher. "headline-rank" gets half right; the
    # ranker (release 2.7), fitted on these items, gets them all. Items where nothing passes stay
    # "no event" under both rules: the ranker only orders the passing types.
    thr = np.full(len(EVENT_TYPES), 0.5)
    alone = np.array([_row(0.8, 0.6)] * 40 + [_row(0.2, 0.1)] * 10)
    both = np.array([_row(0.55, 0.9)] * 20 + [_row(0.9, 0.55)] * 20 + [_row(0.3, 0.2)] * 10)
    has_title = np.ones(50, dtype=bool)
    gold = np.array([1] * 20 + [0] * 20 + [-1] * 10)
    sport = np.array([False] * 40 + [True] * 10)
    ranker = fit_ranker(both, alone, has_title, gold)
    assert ranker[0].shape == (len(EVENT_TYPES), 2 * len(EVENT_TYPES)) and (ranker[1][2:] == -30.0).all()
    old = primaries(both, alone, has_title, thr, "headline-rank")
    new = primaries(both, alone, has_title, thr, "ranker", ranker=ranker)
    assert old.tolist() == [0] * 40 + [-1] * 10
    assert new.tolist() == gold.tolist()
    assert target_figures(new, gold, sport)[1:] == (1.0, 1.0) and target_figures(old, gold, sport)[1] == 0.5


def test_ranker_headline_ranks_only_the_headlines_own_passing_types_when_it_has_any():
    import numpy as np
    from train_events import fit_ranker, primaries

    # The ranker learns to prefer headline + lead's higher type (as in the test above). Release 3.2's
    # "ranker-headline" lets it order only the types the headline alone passes when there are any
    # (codebook §4): an item whose headline passes type 0 only keeps type 0, where "ranker" takes
    # type 1 from the lead; an item whose headline passes nothing is ranked as "ranker" ranks it.
    thr = np.full(len(EVENT_TYPES), 0.5)
    alone = np.array([_row(0.8, 0.6)] * 40)
    both = np.array([_row(0.55, 0.9)] * 20 + [_row(0.9, 0.55)] * 20)
    has_title = np.ones(40, dtype=bool)
    ranker = fit_ranker(both, alone, has_title, np.array([1] * 20 + [0] * 20))
    both_t = np.array([_row(0.55, 0.9), _row(0.55, 0.9), _row(0.4, 0.3)])
    alone_t = np.array([_row(0.8, 0.3), _row(0.3, 0.2), _row(0.3, 0.2)])
    title_t = np.ones(3, dtype=bool)
    assert primaries(both_t, alone_t, title_t, thr, "ranker", ranker=ranker).tolist() == [1, 1, -1]
    assert primaries(both_t, alone_t, title_t, thr, "ranker-headline", ranker=ranker).tolist() == [0, 1, -1]
    assert primaries(both_t, alone_t, title_t, thr, "headline-rank").tolist() == [0, 0, -1]
    # Release 3.4's "ranker-headline-rank": as "ranker-headline" when the headline passes a type; when
    # it passes none, the headline's own probability orders headline + lead's passing types (type 0's
    # 0.3 above type 1's 0.2), as "headline-rank" does, where the ranker takes the lead's type 1.
    assert primaries(both_t, alone_t, title_t, thr, "ranker-headline-rank", ranker=ranker).tolist() == [0, 0, -1]
    two = np.array([_row(0.8, 0.7)])   # the headline passes both: the ranker orders them
    assert primaries(np.array([_row(0.55, 0.9)]), two, title_t[:1], thr, "ranker-headline-rank", ranker=ranker).tolist() == \
        primaries(np.array([_row(0.55, 0.9)]), two, title_t[:1], thr, "ranker", ranker=ranker).tolist() == [1]


def test_a_headline_shift_lets_a_passing_type_count_as_the_headlines_and_is_chosen_on_the_items():
    import numpy as np
    from train_events import fit_ranker, headline_shift_for, primaries

    # The ranker prefers headline + lead's higher type, as above. Release 3.5's headline shift: a
    # type that passes (here on headline + lead) counts as the headline's when the headline alone
    # scores at least its threshold minus the shift; then only such types compete (codebook §4).
    thr = np.full(len(EVENT_TYPES), 0.5)
    alone = np.array([_row(0.8, 0.6)] * 40)
    both = np.array([_row(0.55, 0.9)] * 20 + [_row(0.9, 0.55)] * 20)
    ranker = fit_ranker(both, alone, np.ones(40, dtype=bool), np.array([1] * 20 + [0] * 20))
    both_t = np.array([_row(0.55, 0.9), _row(0.3, 0.9), _row(0.55, 0.9)])
    alone_t = np.array([_row(0.44, 0.2), _row(0.44, 0.2), _row(0.3, 0.2)])
    title_t = np.ones(3, dtype=bool)
    plain = primaries(both_t, alone_t, title_t, thr, "ranker-headline", ranker=ranker)
    assert plain.tolist() == [1, 1, 1]
    shifted = primaries(both_t, alone_t, title_t, thr, "ranker-headline", ranker=ranker, headline_shift=0.1)
    # First item: type 0 passes on headline + lead and its headline scores 0.44 >= 0.5 - 0.1: it is
    # the headline's. Second: type 0 does not pass at all (0.3), so the shift cannot make it the
    # primary. Third: the headline's 0.3 is too low for the shift.
    assert shifted.tolist() == [0, 1, 1]
    assert primaries(both_t, alone_t, title_t, thr, "ranker-headline", ranker=ranker, headline_shift=0.05).tolist() == [1, 1, 1]
    # The shift never changes whether there is an event.
    none = primaries(np.array([_row(0.3, 0.2)]), np.array([_row(0.45, 0.2)]), title_t[:1], thr, "ranker-headline",
                     ranker=ranker, headline_shift=0.2)
    assert none.tolist() == [-1]
    # Chosen on labelled items: 30 items like the first, whose gold is the headline's type 0, and
    # 10 like the third (gold 1): the smallest shift on the grid that gets all 40 right is 0.075.
    both_c = np.array([_row(0.55, 0.9)] * 40)
    alone_c = np.array([_row(0.44, 0.2)] * 30 + [_row(0.3, 0.2)] * 10)
    gold = np.array([0] * 30 + [1] * 10)
    shift = headline_shift_for(both_c, alone_c, np.ones(40, dtype=bool), gold, np.zeros(40, dtype=bool), thr,
                               "ranker-headline", ranker)
    assert shift == 0.075
    assert headline_shift_for(both_c, alone_c, np.ones(40, dtype=bool), np.array([1] * 40), np.zeros(40, dtype=bool),
                              thr, "ranker-headline", ranker) == 0.0
    # Release 3.15 option: a wider grid (train_events --headline-shift 0.4) reaches shifts over the
    # default top (HEADLINE_SHIFT_MAX, 0.2): headlines at 0.25 need a shift of 0.25 to count.
    from train_events import HEADLINE_SHIFT_MAX
    alone_w = np.array([_row(0.25, 0.2)] * 30 + [_row(0.1, 0.2)] * 10)
    narrow = headline_shift_for(both_c, alone_w, np.ones(40, dtype=bool), gold, np.zeros(40, dtype=bool), thr,
                                "ranker-headline", ranker, grid=np.arange(0.0, HEADLINE_SHIFT_MAX + 1e-9, 0.025))
    wide = headline_shift_for(both_c, alone_w, np.ones(40, dtype=bool), gold, np.zeros(40, dtype=bool), thr,
                              "ranker-headline", ranker, grid=np.arange(0.0, 0.4 + 1e-9, 0.025))
    assert HEADLINE_SHIFT_MAX == 0.2 and narrow == 0.0 and wide == 0.25   # narrow: no shift on its grid helps


def test_train_events_headline_shift_takes_an_optional_grid_top(capsys):
    # make events-model passes a bare --headline-shift (the grid 0-0.2); a number widens the grid
    # (release 3.15 option); a top of 0 or less would leave no grid and is refused before training.
    import train_events

    with pytest.raises(SystemExit):
        train_events.main(["--headline-shift", "-0.1", "--rule", "ranker-headline"])
    assert "--headline-shift MAX must be over 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_events.main(["--headline-shift", "0.4", "--rule", "headline"])
    assert "--headline-shift needs --rule" in capsys.readouterr().err


def test_the_headlines_reliable_verb_orders_the_passing_types_first():
    import numpy as np
    from train_events import fit_ranker, headline_named, primaries

    from pipelines.nlp.events import headline_verb_types

    # Release 3.9's "ranker-headline-verb": the headline's words, or the words without a final
    # "s", looked up in the reliable-verb table; a word that is no verb names nothing.
    strong = {"meet": ["CONSULT", "04", None], "arrest": ["COERCE", "17", "arrest"]}
    assert headline_verb_types("Shoigu Meets With Kim Jong-Un", strong) == {"CONSULT"}
    assert headline_verb_types("Police arrest 12 at a meeting", strong) == {"COERCE"}
    assert headline_verb_types("Alliance deepens", strong) == set() == headline_verb_types("", strong)
    # Over training items: the shipped table, one row per item, a column per type.
    items = [{"title": "Envoy meets rebels"}, {"title": ""}, {"title": "Leaders hold talks"}]
    named = headline_named(items)
    assert named.shape == (3, len(EVENT_TYPES))
    assert named[0].tolist() == [t == "CONSULT" for t in EVENT_TYPES] and not named[1].any()
    # The ranker prefers type 1 (as in the tests above); a type the headline's verb names comes
    # first among the passing types, and only among them: it never makes a type pass.
    thr = np.full(len(EVENT_TYPES), 0.5)
    alone = np.array([_row(0.8, 0.6)] * 40)
    both = np.array([_row(0.55, 0.9)] * 20 + [_row(0.9, 0.55)] * 20)
    ranker = fit_ranker(both, alone, np.ones(40, dtype=bool), np.array([1] * 20 + [0] * 20))
    both_t = np.array([_row(0.55, 0.9), _row(0.3, 0.9), _row(0.55, 0.9), _row(0.55, 0.9)])
    alone_t = np.array([_row(0.2, 0.2)] * 4)
    title_t = np.array([True, True, True, False])
    verbs = np.zeros((4, len(EVENT_TYPES)), dtype=bool)
    verbs[[0, 1, 3], 0] = True
    plain = primaries(both_t, alone_t, title_t, thr, "ranker-headline", ranker=ranker)
    assert plain.tolist() == [1, 1, 1, 1]
    ordered = primaries(both_t, alone_t, title_t, thr, "ranker-headline-verb", ranker=ranker, named=verbs)
    # First item: type 0 passes and its verb is in the headline. Second: type 0 does not pass.
    # Third: no verb. Fourth: no headline, so nothing is the headline's verb.
    assert ordered.tolist() == [0, 1, 1, 1]
    with pytest.raises(ValueError, match="named"):
        primaries(both_t, alone_t, title_t, thr, "ranker-headline-verb", ranker=ranker)
    # Release 3.10's "ranker-headline-verb-fallback": the same where the headline alone counts no
    # passing type as its own; where it does (type 1 at 0.6 on the headline), ranker-headline's order.
    assert primaries(both_t, alone_t, title_t, thr, "ranker-headline-verb-fallback", ranker=ranker,
                     named=verbs).tolist() == [0, 1, 1, 1]
    own = np.array([_row(0.2, 0.6)])
    assert primaries(both_t[:1], own, title_t[:1], thr, "ranker-headline-verb", ranker=ranker, named=verbs[:1]).tolist() == [0]
    assert primaries(both_t[:1], own, title_t[:1], thr, "ranker-headline-verb-fallback", ranker=ranker,
                     named=verbs[:1]).tolist() == [1]
    # Release 3.11's "ranker-headline-verb-own": where the headline counts types of its own, the
    # verb orders those (the headline's own type 1 is not the verb's: ranker order, as fallback);
    # where the verb's type is among them, it comes first; with none of its own, as 3.9's rule.
    assert primaries(both_t[:1], own, title_t[:1], thr, "ranker-headline-verb-own", ranker=ranker,
                     named=verbs[:1]).tolist() == [1]
    both_own = np.array([_row(0.55, 0.9)])
    assert primaries(both_own, np.array([_row(0.6, 0.6)]), title_t[:1], thr, "ranker-headline-verb-own",
                     ranker=ranker, named=verbs[:1]).tolist() == [0]
    assert primaries(both_own, np.array([_row(0.6, 0.6)]), title_t[:1], thr, "ranker-headline-verb-fallback",
                     ranker=ranker, named=verbs[:1]).tolist() == [1]
    assert primaries(both_t, alone_t, title_t, thr, "ranker-headline-verb-own", ranker=ranker,
                     named=verbs).tolist() == [0, 1, 1, 1]


def test_a_ranker_that_reads_the_headlines_verb_learns_its_weight_from_the_items():
    import numpy as np
    from train_events import fit_ranker, primaries

    # Release 3.12 options: the headline's verb types are ranker inputs. Types 0 and 1 both pass on
    # every item with the same scores; the gold type is the one the headline's verb names on 30
    # items (15 each way) and type 1 on 10 items with no verb. Without the verb input the ranker
    # cannot tell the items apart; with it, every item comes out right.
    k = len(EVENT_TYPES)
    thr = np.full(k, 0.5)
    both = np.array([_row(0.8, 0.8)] * 40)
    alone = np.array([_row(0.3, 0.3)] * 40)
    has_title = np.ones(40, dtype=bool)
    named = np.zeros((40, k), dtype=bool)
    named[:15, 0] = named[15:30, 1] = True
    gold = np.array([0] * 15 + [1] * 25)
    plain = fit_ranker(both, alone, has_title, gold)
    ranker = fit_ranker(both, alone, has_title, gold, named=named)
    assert ranker[0].shape == (k, 3 * k) and plain[0].shape == (k, 2 * k)
    assert primaries(both, alone, has_title, thr, "ranker-headline", ranker=plain).tolist() == [1] * 40
    learned = primaries(both, alone, has_title, thr, "ranker-headline-feature", ranker=ranker, named=named)
    assert learned.tolist() == gold.tolist()
    # The verb input only orders passing types: it never makes a type pass.
    assert primaries(np.array([_row(0.3, 0.8)]), alone[:1], has_title[:1], thr, "ranker-headline-feature",
                     ranker=ranker, named=named[:1]).tolist() == [1]
    with pytest.raises(ValueError, match="named"):
        primaries(both, alone, has_title, thr, "ranker-headline-feature", ranker=ranker)
    # "ranker-headline-verb-feature" keeps 3.10's fallback rule beside the ranker: a type the verb
    # names comes first when the headline alone counts none its own, whatever the ranker says.
    against = (-ranker[0], -ranker[1])   # a ranker that orders against the verb
    assert primaries(both[:15], alone[:15], has_title[:15], thr, "ranker-headline-verb-feature", ranker=against,
                     named=named[:15]).tolist() == [0] * 15
    assert primaries(both[:15], alone[:15], has_title[:15], thr, "ranker-headline-feature", ranker=against,
                     named=named[:15]).tolist() == [1] * 15


def test_the_ranker_is_stored_only_when_set_and_older_models_load_unchanged(tmp_path):
    import numpy as np
    from train_events import save

    from pipelines.nlp.event_features import FeatureExtractor
    from pipelines.nlp.events import TypeClassifier, load_classifier

    k = len(EVENT_TYPES)
    clf = TypeClassifier(EVENT_TYPES, {"talks": 0}, np.ones(1), np.ones((1, k)), np.zeros(k),
                         np.tile([1.0, 0.0], (k, 1)), np.full(k, 0.5), None, None, primary_rule="headline-rank")
    extractor = FeatureExtractor({}, {}, {})
    save(clf, tmp_path / "old")
    with np.load(tmp_path / "old" / "classifier.npz") as arrays:
        assert "ranker_coef" not in arrays.files
    old = load_classifier(tmp_path / "old", extractor)
    assert old.primary_rule == "headline-rank" and old.ranker is None
    coef = np.arange(k * 2 * k, dtype=float).reshape(k, 2 * k) / 100
    clf.primary_rule, clf.ranker = "ranker", (coef, np.linspace(-1, 1, k))
    save(clf, tmp_path / "new")
    new = load_classifier(tmp_path / "new", extractor)
    assert new.primary_rule == "ranker"
    assert np.allclose(new.ranker[0], coef, atol=1e-6) and np.allclose(new.ranker[1], np.linspace(-1, 1, k), atol=1e-6)
    assert old.headline_shift == new.headline_shift == 0.0   # models before release 3.5 have none
    clf.primary_rule, clf.headline_shift = "ranker-headline", 0.075
    save(clf, tmp_path / "shifted")
    assert load_classifier(tmp_path / "shifted", extractor).headline_shift == 0.075
    # A model that names the ranker but lost its weights is refused, not ranked by accident.
    (tmp_path / "new" / "classifier.npz").write_bytes((tmp_path / "old" / "classifier.npz").read_bytes())
    with pytest.raises(ValueError, match="holds no ranker"):
        load_classifier(tmp_path / "new", extractor)
    # Release 3.12's rules give the ranker the headline's verb types too: 3 x 16 inputs. A ranker
    # of the other width is refused at load, not on the first article.
    clf.primary_rule = "ranker-headline-verb-feature"
    save(clf, tmp_path / "narrow")
    with pytest.raises(ValueError, match="reads 32 inputs but the primary rule 'ranker-headline-verb-feature' gives it 48"):
        load_classifier(tmp_path / "narrow", extractor)
    clf.ranker = (np.hstack([coef, np.eye(k)]), clf.ranker[1])
    save(clf, tmp_path / "wide")
    assert load_classifier(tmp_path / "wide", extractor).ranker[0].shape == (k, 3 * k)


def test_an_event_gate_decides_event_or_none_and_the_best_ranked_type_is_the_primary():
    import numpy as np
    from train_events import primaries

    thr = np.array(_row(0.5, 0.8))
    thr[2:] = 0.9
    both = np.array([_row(0.65, 0.7), _row(0.65, 0.9), _row(0.3, 0.2), _row(0.4, 0.5)])
    alone = np.array([_row(0.0, 0.0), _row(0.6, 0.2), _row(0.55, 0.2), _row(0.4, 0.2)])
    has_title = np.array([False, True, True, True])
    # Per-type thresholds: type 1 at 0.7 misses its 0.8, so the first item's primary is type 0.
    assert primaries(both, alone, has_title, thr, "headline").tolist() == [0, 0, 0, -1]
    # A gate of 0.45 on the best probability: the first item takes its most probable type (1);
    # the headline's own best type wins when it reaches the gate; the last item's best (0.5,
    # headline + lead) reaches it too, though it passes no per-type threshold.
    assert primaries(both, alone, has_title, thr, "headline", gate=0.45).tolist() == [1, 0, 0, 1]
    assert primaries(both, alone, has_title, thr, "headline", gate=0.62).tolist() == [1, 1, -1, -1]
    # On the margin: the best margin must reach the gate (0.15 for type 0 on the first two items;
    # the third item's headline clears its threshold by 0.05 only).
    assert primaries(both, alone, has_title, thr, "margin", gate=0.1).tolist() == [0, 0, -1, -1]


def test_the_noevent_objective_takes_type_accuracy_only_above_the_floor():
    import numpy as np
    from train_events import NOEVENT_FLOOR, SHIFT_GRIDS, objective_value, shift_thresholds

    assert objective_value((0.5, 0.9, NOEVENT_FLOOR - 0.01), "noevent") < objective_value((0.1, 0.1, NOEVENT_FLOOR), "noevent")
    assert objective_value((0.5, 0.9, 0.90), "noevent") > objective_value((0.9, 0.9, 0.89), "noevent")
    assert objective_value((0.5, 0.6, 0.9), "sum") == (2.0,)
    # Ten event items of type 0 at 0.45 and ten sport items at 0.2: from an F1 threshold of 0.5,
    # only a shift that lowers it (the "both" grid) codes the events, and the sport items stay
    # clear of it, so the no-event rate stays at 1.
    both = np.array([_row(0.45)] * 10 + [_row(0.2)] * 10)
    alone, has_title = np.zeros_like(both), np.zeros(20, dtype=bool)
    gold, sport = np.array([0] * 10 + [-1] * 10), np.array([False] * 10 + [True] * 10)
    start = np.full(len(EVENT_TYPES), 0.5)
    raised = shift_thresholds(both, alone, has_title, gold, sport, start, grid=SHIFT_GRIDS["raise"], objective="noevent")
    lowered = shift_thresholds(both, alone, has_title, gold, sport, start, grid=SHIFT_GRIDS["both"], objective="noevent")
    assert raised[0] == 0.5 and 0.2 < lowered[0] <= 0.45


def test_the_set_floor_objectives_weigh_every_set_once():
    import numpy as np
    import pytest
    from train_events import SET_FLOORS, SHIFT_GRIDS, set_noevent_rate, shift_thresholds

    # Ten event items of type 0 at 0.45; a large set of 300 sport items at 0.2 and a small one of
    # ten at 0.46. Lowering the 0.5 threshold to 0.45 codes the events and the small set's sport
    # items: pooled, 300 of 310 stay without an event (0.968, over the 0.955 floor), but the small
    # set's own rate falls to 0, so the mean of the two sets' rates is 0.5.
    both = np.array([_row(0.45)] * 10 + [_row(0.2)] * 300 + [_row(0.46)] * 10)
    alone, has_title = np.zeros_like(both), np.zeros(len(both), dtype=bool)
    gold = np.array([0] * 10 + [-1] * 310)
    sport = gold == -1
    groups = np.array(["events"] * 10 + ["large"] * 300 + ["small"] * 10)
    start = np.full(len(EVENT_TYPES), 0.5)
    lowered = np.where(np.arange(len(both)) < 10, 0, -1)
    lowered[-10:] = 0
    assert set_noevent_rate(lowered, sport, groups) == 0.5
    assert set_noevent_rate(np.full(len(both), -1), sport, groups) == 1.0
    pooled = shift_thresholds(both, alone, has_title, gold, sport, start, grid=SHIFT_GRIDS["both"], objective="noevent")
    assert pooled[0] == 0.45
    for objective in SET_FLOORS:
        per_set = shift_thresholds(both, alone, has_title, gold, sport, start, grid=SHIFT_GRIDS["both"],
                                   objective=objective, groups=groups)
        assert per_set[0] == 0.5
    with pytest.raises(ValueError, match="groups"):
        shift_thresholds(both, alone, has_title, gold, sport, start, grid=SHIFT_GRIDS["both"], objective="noevent-sets")


def test_headline_platt_maps_apply_to_headlines_scored_alone_only():
    import numpy as np

    from pipelines.nlp.events import EventCoder

    clf = EventCoder.load().classifier
    titles, leads = ["Rebels attack army base", "Rebels attack army base", ""], ["Gunmen struck at dawn.", "", "Gunmen struck."]
    before = clf.predict_proba(titles, leads)
    clf.platt_alone = clf.platt + np.array([0.0, 1.0])   # the same slopes, intercepts one higher
    after = clf.predict_proba(titles, leads)
    assert np.allclose(after[[0, 2]], before[[0, 2]])
    assert (after[1] > before[1]).all()


def test_threshold_tuning_trades_a_false_event_on_sport_for_no_event():
    import numpy as np
    from train_events import target_figures, tune_thresholds, primaries

    both = np.array([_row(0.9)] * 10 + [_row(0.6)] * 10)
    alone = np.zeros_like(both)
    has_title = np.zeros(20, dtype=bool)
    gold = np.array([0] * 10 + [-1] * 10)
    sport = np.array([False] * 10 + [True] * 10)
    start = np.full(len(EVENT_TYPES), 0.5)
    assert target_figures(primaries(both, alone, has_title, start), gold, sport)[1:] == (1.0, 0.0)
    tuned = tune_thresholds(both, alone, has_title, gold, sport, start)
    assert 0.6 < tuned[0] <= 0.9
    assert target_figures(primaries(both, alone, has_title, tuned), gold, sport) == (1 / len(EVENT_TYPES), 1.0, 1.0)


def test_coder_primary_follows_the_classifiers_rule():
    """EventCoder.code picks the primary as train_events.primaries does (thresholds are tuned on the latter)."""
    import numpy as np
    from train_events import primaries

    from pipelines.nlp.events import CoderConfig, EventCoder
    from pipelines.nlp.ner import load_nlp

    nlp = load_nlp()
    coder = EventCoder.load(config=CoderConfig(political_actor=False))   # no actor-based filter after the choice
    clf = coder.classifier
    stories = [(a["title"], a["body"]) for a in articles()][:8]
    coded = []
    # A ranker of fixed weights (release 2.7 rule "ranker"): any weights must give the same choice.
    k = len(clf.types)
    ranker = (np.random.default_rng(7).normal(size=(k, 2 * k)), np.zeros(k))
    for rule, shift, gate in (("headline", 0.0, None), ("margin", 0.0, None), ("headline", 0.15, None),
                              ("headline", 0.0, 0.3), ("margin", 0.0, -0.05), ("headline-rank", 0.0, None),
                              ("headline-rank", 0.15, None), ("headline-rank", 0.0, 0.3), ("ranker", 0.0, None),
                              ("ranker", 0.15, None), ("ranker-headline", 0.0, None), ("ranker-headline", 0.15, None),
                              ("ranker-headline-rank", 0.0, None), ("ranker-headline-rank", 0.15, None),
                              ("ranker-headline", 0.0, "headline shift"), ("ranker-headline-rank", 0.0, "headline shift")):
        # a headline shift of 0.2 (release 3.5 option) for the last two
        clf.headline_shift = 0.2 if gate == "headline shift" else 0.0
        gate = None if gate == "headline shift" else gate
        clf.primary_rule, clf.lead_shift, clf.event_gate = rule, shift, gate
        clf.ranker = ranker if rule in RANKED_RULES else None
        for title, body in stories:
            _, primary = coder.code(nlp(title), nlp(body), [], None)
            sents = [s.text.strip() for s in nlp(body).sents if sum(1 for t in s if t.is_alpha) >= 4]
            lead = " ".join(sents)[:600]
            pb, pa = clf.predict_proba([title], [lead]), clf.predict_proba([title], [""])
            expected = primaries(pb, pa, np.array([True]), clf.thresholds, rule, shift, gate, clf.ranker,
                                 clf.headline_shift)[0]
            assert primary == (clf.types[expected] if expected >= 0 else None), (rule, title)
            coded.append(primary)
    assert any(coded)
    # The rules that read the headline's reliable verbs (releases 3.9-3.12), with and without a
    # headline shift; 3.12's rules give the ranker the verb types as 16 more inputs (here weighted
    # towards their own type), the others the ranker above. The seed's headline has a verb ("Meets").
    from tests.fixtures import seed_article

    from pipelines.nlp.events import FEATURE_RULES, NAMED_RULES, headline_verb_types

    wide = np.random.default_rng(8).normal(size=(k, 3 * k))
    wide[:, 2 * k:] += 3.0 * np.eye(k)
    verbs_seen = 0
    for rule in NAMED_RULES:
        for headline_shift in (0.0, 0.2):
            clf.primary_rule, clf.lead_shift, clf.event_gate, clf.headline_shift = rule, 0.0, None, headline_shift
            clf.ranker = (wide, np.zeros(k)) if rule in FEATURE_RULES else ranker
            for title, body in stories + [seed_article()]:
                _, primary = coder.code(nlp(title), nlp(body), [], None)
                sents = [s.text.strip() for s in nlp(body).sents if sum(1 for t in s if t.is_alpha) >= 4]
                lead = " ".join(sents)[:600]
                pb, pa = clf.predict_proba([title], [lead]), clf.predict_proba([title], [""])
                named = np.array([[t in headline_verb_types(title, coder.strong_verbs) for t in clf.types]])
                verbs_seen += int(named.any())
                expected = primaries(pb, pa, np.array([True]), clf.thresholds, rule, 0.0, None, clf.ranker,
                                     headline_shift, named)[0]
                assert primary == (clf.types[expected] if expected >= 0 else None), (rule, headline_shift, title)
    assert verbs_seen >= 2 * len(NAMED_RULES)


def test_main_names_a_missing_gold_file_plainly(tmp_path, capsys):
    missing = tmp_path / "nope.jsonl"
    assert main(["--gold", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"newsflow eval events: cannot read {missing}: No such file or directory"


def test_main_checks_its_output_files_before_scoring(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": "Police arrested two men.", "event_type": "COERCE"}) + "\n", encoding="utf-8")
    for flag in ("--png", "--json"):
        target = tmp_path / "no-such-folder" / "out"
        assert main(["--gold", str(gold), flag, str(target)]) == 2
        captured = capsys.readouterr()
        # Refused before the coder runs: no report was printed.
        assert captured.out == ""
        assert captured.err.strip() == (f"newsflow eval events: cannot write {flag} {target}: "
                                        f"no folder {target.parent}")


def test_an_output_path_that_is_a_folder_is_refused_before_scoring(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": "Police arrested two men.", "event_type": "COERCE"}) + "\n", encoding="utf-8")
    assert main(["--gold", str(gold), "--json", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"newsflow eval events: cannot write --json {tmp_path}: it is a folder (give a file name)"


def test_limit_that_is_not_a_number_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--gold", str(tmp_path / "gold.jsonl"), "--limit", "abc"])
    assert stop.value.code == 2
    assert "argument --limit: takes a whole number, not 'abc'" in capsys.readouterr().err


def test_limit_below_one_is_refused(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": "Police arrested two men.", "event_type": "COERCE"}) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        main(["--gold", str(gold), "--limit", "-1"])
    assert stop.value.code == 2
    assert "argument --limit: must be 1 or more, not -1" in capsys.readouterr().err


def test_main_shows_progress_while_scoring(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    rows = [{"id": f"i{n}", "text": "Police arrested two opposition leaders in Minsk on Sunday.",
             "event_type": "COERCE"} for n in range(3)]
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    from pipelines.console import PlainCounter
    from pipelines.eval import events as eval_events

    counter = PlainCounter("eval events", 3, "item(s)", every=0.0, stream=sys.stderr)
    predictions = eval_events.predict(eval_events.read_gold(gold), resolver=None, progress=counter)
    assert len(predictions) == 3
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("eval events: ")]
    assert lines[-1].startswith("eval events: 3/3 item(s) at ")


def ranked_scores(second_alone: float):
    """480 items of three groups, a fifth without an event, and decision values where each item's
    type stands out (+3 on headline + lead, +2 alone) and the next type nearly does (+2.5 on
    headline + lead, ``second_alone`` alone): a primary rule decides between the two."""
    import numpy as np

    rng = np.random.default_rng(3)
    k = len(EVENT_TYPES)
    items, both, alone = [], [], []
    for n in range(480):
        t = None if n % 5 == 0 else EVENT_TYPES[n % k]
        items.append({"id": str(n), "group": ("w1", "tune", "blind1")[n % 3], "event_type": t,
                      "category": "sport" if t is None else "world"})
        b, a = rng.normal(-2, 1.2, k), rng.normal(-2, 1.2, k)
        if t is not None:
            j = EVENT_TYPES.index(t)
            b[j] += 3
            a[j] += 2
            b[(j + 1) % k] += 2.5
            a[(j + 1) % k] += second_alone
        both.append(b)
        alone.append(a)
    return items, np.array(both), np.array(alone)


def test_the_ranker_can_take_headline_ranks_shift(monkeypatch):
    # Release 2.8 option (calibrate_real's shift_rule; recipe "ranker, shift of headline rank" of
    # threshold_events.py): the ranker is fitted as for rule "ranker", but the shift is chosen with
    # headline-rank's primaries, so the thresholds are the ones "headline-rank" gets.
    import numpy as np
    import threshold_events
    import train_events

    items, both, alone = ranked_scores(second_alone=2.6)
    calls = []
    real_shift = train_events.shift_thresholds

    def spy(*args):
        calls.append((args[6], args[9]))   # the rule and the ranker the shift is chosen with
        return real_shift(*args)

    monkeypatch.setattr(train_events, "shift_thresholds", spy)
    clf = threshold_events.blank_classifier
    hr = train_events.calibrate_real(clf(), both, alone, items, "headline-rank")
    rk = train_events.calibrate_real(clf(), both, alone, items, "ranker")
    fx = train_events.calibrate_real(clf(), both, alone, items, "ranker", shift_rule="headline-rank")
    assert [c[0] for c in calls] == ["headline-rank", "ranker", "headline-rank"]
    assert calls[0][1] is None and calls[1][1] is not None and calls[2][1] is None
    assert fx.primary_rule == "ranker" and np.array_equal(fx.thresholds, hr.thresholds)
    assert np.allclose(fx.ranker[0], rk.ranker[0]) and np.allclose(fx.ranker[1], rk.ranker[1])
    # threshold_events passes the recipe's shift rule on; older recipes keep their own.
    calls.clear()
    prim, got, _ = threshold_events.held_out_primaries(items, both, alone, "blind1",
                                                       threshold_events.RECIPES["ranker, shift of headline rank"])
    assert calls[-1][0] == "headline-rank" and got.primary_rule == "ranker" and got.ranker is not None
    threshold_events.held_out_primaries(items, both, alone, "blind1", threshold_events.RECIPES["ranker"])
    assert calls[-1][0] == "ranker"
    assert len(prim) == sum(1 for i in items if i["group"] == "blind1")


def test_the_feature_ranker_can_choose_its_own_shift(monkeypatch):
    # Release 3.28 option (recipes "..., own shift, ..." of threshold_events.py): with no shift rule
    # the shipped rule, ranker-headline-verb-feature, chooses the threshold shift with its own
    # primaries, so the shift search gets the ranker and the headline's verb types; with
    # --shift-rule headline-rank (3.13-3.27) it gets neither.
    import numpy as np
    import threshold_events
    import train_events

    items, both, alone = ranked_scores(second_alone=2.6)
    items = [{**i, "title": f"headline {i['id']}"} for i in items]
    named = np.zeros(both.shape, dtype=bool)
    named[::7, 2] = True   # some headlines whose verb names the third type
    calls = []
    real_shift = train_events.shift_thresholds

    def spy(*args):
        calls.append((args[6], args[9], args[11] if len(args) > 11 else None))
        return real_shift(*args)

    monkeypatch.setattr(train_events, "shift_thresholds", spy)
    rule = "ranker-headline-verb-feature"
    clf = threshold_events.blank_classifier
    own = train_events.calibrate_real(clf(), both, alone, items, rule, shift_grid="both", objective="noevent-sets",
                                      headline_shift=True, named=named)
    old = train_events.calibrate_real(clf(), both, alone, items, rule, shift_grid="both", objective="noevent-sets",
                                      shift_rule="headline-rank", headline_shift=True, named=named)
    assert calls[0][0] == rule and calls[0][1] is not None and calls[0][2] is not None
    real = np.array([not i["group"].startswith("w") for i in items])
    assert np.array_equal(calls[0][2], named[real])
    assert calls[1][0] == "headline-rank" and calls[1][1] is None and calls[1][2] is None
    assert own.primary_rule == old.primary_rule == rule
    # The chosen shift is the best of the grid for the rule's own primaries under the floor.
    start = train_events.calibrate_real(clf(), both, alone, items, tune_on="f1").thresholds
    pb, pa = train_events.calibrated(own.platt, both), train_events.calibrated(own.platt, alone)
    has_title = np.ones(len(items), dtype=bool)
    gold, ne = train_events.gold_columns(items), train_events.noevent_mask(items)
    groups = np.array([i["group"] for i in items])

    def value(thr):
        prim = train_events.primaries(pb[real], pa[real], has_title[real], thr, rule, ranker=own.ranker,
                                      named=named[real])
        f1, acc, _ = train_events.target_figures(prim, gold[real], ne[real])
        rate = train_events.set_noevent_rate(prim, ne[real], groups[real])
        return train_events.objective_value((f1, acc, rate), "noevent-sets")

    assert all(value(own.thresholds) >= value(np.clip(start + s, 0.01, 0.99))
               for s in train_events.SHIFT_GRIDS["both"])
    # threshold_events's 3.28 recipes pass no shift rule, the set floors as named.
    for name, floor in (("set floor", "noevent-sets"), ("high set floor", "noevent-sets-high")):
        recipe = threshold_events.RECIPES[f"ranker-headline-verb-feature, own shift, headline shift, {name}"]
        assert recipe[0] == rule and recipe[2] == floor and recipe[5] is None and recipe[6] is True


def test_joint_shifts_score_each_threshold_shift_with_its_headline_shift(monkeypatch):
    # Release 3.29 option (recipe "..., joint shifts, set floor"; train_events.py --joint-shift):
    # each threshold shift is scored with the shipped rule's primaries at the headline shift
    # headline_shift_for gives it, so the pair chosen scores at least as well as 3.28's candidate
    # A (threshold shift chosen with no headline shift, the headline shift after), and best of the
    # grid's pairs.
    import numpy as np
    import pytest
    import threshold_events
    import train_events

    items, both, alone = ranked_scores(second_alone=2.6)
    items = [{**i, "title": f"headline {i['id']}"} for i in items]
    named = np.zeros(both.shape, dtype=bool)
    named[::7, 2] = True
    rule = "ranker-headline-verb-feature"
    clf = threshold_events.blank_classifier
    kw = dict(shift_grid="both", objective="noevent-sets", headline_shift=True, named=named)
    asked = []
    real_for = train_events.headline_shift_for

    def spy(*args, **kwargs):
        asked.append(np.round(args[5], 3).tolist())   # the thresholds a headline shift is chosen for
        return real_for(*args, **kwargs)

    monkeypatch.setattr(train_events, "headline_shift_for", spy)
    joint = train_events.calibrate_real(clf(), both, alone, items, rule, **kw, joint_shift=True)
    # one headline shift for every threshold shift of the grid, each for its own thresholds
    assert len(asked) == len(train_events.SHIFT_GRIDS["both"]) and len({tuple(a) for a in asked}) > 1
    asked.clear()
    seq = train_events.calibrate_real(clf(), both, alone, items, rule, **kw)
    assert len(asked) == 1   # 3.28's candidate A: one headline shift, after the thresholds
    start = train_events.calibrate_real(clf(), both, alone, items, tune_on="f1").thresholds
    real = np.array([not i["group"].startswith("w") for i in items])
    pb, pa = train_events.calibrated(joint.platt, both), train_events.calibrated(joint.platt, alone)
    has_title = np.ones(len(items), dtype=bool)
    gold, ne = train_events.gold_columns(items), train_events.noevent_mask(items)
    groups = np.array([i["group"] for i in items])

    def value(thr, hs):
        prim = train_events.primaries(pb[real], pa[real], has_title[real], thr, rule, ranker=joint.ranker,
                                      headline_shift=hs, named=named[real])
        f1, acc, _ = train_events.target_figures(prim, gold[real], ne[real])
        return train_events.objective_value((f1, acc, train_events.set_noevent_rate(prim, ne[real], groups[real])),
                                            "noevent-sets")

    assert value(joint.thresholds, joint.headline_shift) >= value(seq.thresholds, seq.headline_shift)
    grid_h = np.arange(0.0, train_events.HEADLINE_SHIFT_MAX + 1e-9, 0.025)
    for s in train_events.SHIFT_GRIDS["both"]:
        thr = np.clip(start + round(float(s), 3), 0.01, 0.99)
        hs = train_events.headline_shift_for(pb[real], pa[real], has_title[real], gold[real], ne[real], thr, rule,
                                             joint.ranker, grid=grid_h, named=named[real])
        assert value(joint.thresholds, joint.headline_shift) >= value(thr, hs)
    with pytest.raises(ValueError, match="joint_shift"):
        train_events.calibrate_real(clf(), both, alone, items, rule, **kw, shift_rule="headline-rank", joint_shift=True)
    recipe = threshold_events.RECIPES["ranker-headline-verb-feature, joint shifts, set floor"]
    assert recipe[0] == rule and recipe[2] == "noevent-sets" and recipe[5] is None and recipe[6] is True and recipe[7]


def test_the_choice_ranker_is_fitted_over_each_items_passing_types(monkeypatch):
    # Release 3.30 option (ranker fit "choice"; train_events.py --ranker-fit choice; recipes
    # "..., choice ranker, ..."): the ranker is a conditional logit over the types passing the F1
    # thresholds lowered by CHOICE_MARGIN. It minimises that objective (fit_ranker's coefficients
    # score worse on it), reads nothing of the rows it is not fitted on (gold not a candidate, or
    # alone), keeps fit_ranker's stored form, and calibrate_real uses it only when asked.
    import numpy as np
    import pytest
    import threshold_events
    import train_events

    items, both, alone = ranked_scores(second_alone=2.6)
    items = [{**i, "title": f"headline {i['id']}"} if n % 4 else i for n, i in enumerate(items)]   # a quarter without
    named = np.zeros(both.shape, dtype=bool)
    named[::7, 2] = True
    clf = threshold_events.blank_classifier
    start = train_events.calibrate_real(clf(), both, alone, items, tune_on="f1")
    pb, pa = train_events.calibrated(start.platt, both), train_events.calibrated(start.platt, alone)
    has_title = np.array([bool(i.get("title")) for i in items])
    gold = train_events.gold_columns(items)
    cand = train_events.choice_candidates(pb, pa, has_title, start.thresholds)
    assert np.array_equal(cand, (pb >= start.thresholds - 0.1) | (has_title[:, None] & (pa >= start.thresholds - 0.1)))
    ev = gold >= 0
    fitted = ev & cand[np.arange(len(gold)), np.maximum(gold, 0)] & (cand.sum(axis=1) >= 2)
    assert 50 < fitted.sum() < ev.sum()   # some rows are fitted on, some are not
    weight = np.where([i["group"].startswith("w") for i in items], 1.0, 2.0)
    coef, intercept = train_events.fit_choice_ranker(pb, pa, has_title, gold, cand, weight, named=named)
    whole = train_events.fit_ranker(pb, pa, has_title, gold, weight, named=named)
    assert coef.shape == whole[0].shape == (len(EVENT_TYPES), 3 * len(EVENT_TYPES))

    def features():   # the headline's row and verb types only where there is a headline (fit_ranker's)
        return train_events.ranker_features(pb, np.where(has_title[:, None], pa, pb), named & has_title[:, None])[fitted]

    def conditional_loss(c, b):
        x = features()
        s = np.where(cand[fitted], x @ c.T + b, -np.inf)
        top = s.max(axis=1)
        lse = np.log(np.exp(s - top[:, None]).sum(axis=1)) + top
        g = gold[fitted]
        return (float((weight[fitted] * (lse - s[np.arange(len(g)), g])).sum())
                + 0.5 * float((c ** 2).sum()) + 0.5 * float((b[b > -29] ** 2).sum()))

    assert conditional_loss(coef, intercept) < conditional_loss(*whole) - 1.0

    def conditional_gradient(c, b):
        x = features()
        s = np.where(cand[fitted], x @ c.T + b, -np.inf)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(fitted.sum()), gold[fitted]] -= 1.0
        p *= weight[fitted][:, None]
        return np.concatenate([(p.T @ x + c).ravel(), p.sum(axis=0) + np.where(b > -29, b, 0.0)])

    # a minimum of the conditional objective, not of another one (a softmax over every type)
    assert np.linalg.norm(conditional_gradient(coef, intercept)) < 0.01 * np.linalg.norm(conditional_gradient(*whole))
    # rows it is not fitted on change nothing, whatever their gold type
    moved = gold.copy()
    outside = np.flatnonzero(ev & ~fitted)
    moved[outside] = (gold[outside] + 5) % len(EVENT_TYPES)
    moved[outside] = np.where(cand[outside, moved[outside]] & (cand[outside].sum(axis=1) >= 2),
                              gold[outside], moved[outside])   # keep it outside
    again = train_events.fit_choice_ranker(pb, pa, has_title, moved, cand, weight, named=named)
    assert not np.array_equal(moved, gold)
    assert np.allclose(again[0], coef) and np.allclose(again[1], intercept)
    # a type that is no fitted row's gold type is never ranked over one that is; no row fitted: an error
    never = [j for j in range(len(EVENT_TYPES)) if not (gold[fitted] == j).any()]
    assert all(intercept[j] == -30.0 and not coef[j].any() for j in never)
    with pytest.raises(ValueError, match="no event-bearing row"):
        train_events.fit_choice_ranker(pb, pa, has_title, gold, np.eye(len(EVENT_TYPES), dtype=bool)[np.maximum(gold, 0)])
    # calibrate_real: "choice" fits this ranker (on the F1 thresholds' candidates), "all" fit_ranker's
    rule = "ranker-headline-verb-feature"
    kw = dict(shift_grid="both", objective="noevent-sets", shift_rule="headline-rank", headline_shift=True,
              named=named)
    chosen = train_events.calibrate_real(clf(), both, alone, items, rule, **kw, ranker_fit="choice")
    plain = train_events.calibrate_real(clf(), both, alone, items, rule, **kw)
    assert np.allclose(chosen.ranker[0], coef) and np.allclose(plain.ranker[0], whole[0])
    assert np.array_equal(chosen.thresholds, plain.thresholds)   # headline-rank's shift: the ranker is not in it
    with pytest.raises(ValueError, match="ranker_fit"):
        train_events.calibrate_real(clf(), both, alone, items, "headline-rank", ranker_fit="choice")
    with pytest.raises(ValueError, match="ranker_fit"):
        train_events.calibrate_real(clf(), both, alone, items, rule, **kw, ranker_fit="pairs")
    k = threshold_events.RECIPES["ranker-headline-verb-feature, choice ranker, headline shift, set floor"]
    jk = threshold_events.RECIPES["ranker-headline-verb-feature, choice ranker, joint shifts, set floor"]
    base = threshold_events.RECIPES["ranker-headline-verb-feature, headline shift, set floor"]
    assert k[:7] == base[:7] and k[8] == "choice" and not k[7]
    assert jk[:8] == threshold_events.RECIPES["ranker-headline-verb-feature, joint shifts, set floor"] and jk[8] == "choice"
    # threshold_events passes the recipe's ranker fit on ("all" for the recipes before 3.30)
    fits = []
    real_calibrate = threshold_events.calibrate_real

    def spy(*args):
        fits.append(args[-1])
        return real_calibrate(*args)

    monkeypatch.setattr(threshold_events, "calibrate_real", spy)
    for recipe in (k, jk, base):
        threshold_events.held_out_primaries(items, both, alone, "blind1", recipe)
    assert fits == ["choice", "choice", "all"]


def test_train_events_takes_the_feature_rule_without_a_shift_rule(tmp_path, capsys):
    # Release 3.28: train_events.py --rule ranker-headline-verb-feature without --shift-rule gets
    # past the options (to the data check: here a shared folder without the BBC archive), while a
    # ranked shift rule other than --rule is refused, before any data is read.
    import pytest
    import train_events

    rule = ["--encoder", "wordllama+minilm", "--rule", "ranker-headline-verb-feature", "--shared", str(tmp_path)]
    with pytest.raises(SystemExit) as stop:
        train_events.main(rule)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "needs" in err and "--shift-rule" not in err
    with pytest.raises(SystemExit) as stop:
        train_events.main(rule + ["--shift-rule", "ranker"])
    assert stop.value.code == 2 and "--shift-rule ranker needs --rule ranker" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        train_events.main(rule + ["--shift-rule", "headline-rank"])
    assert stop.value.code == 2 and "--shift-rule" not in capsys.readouterr().err
    # release 3.29 option --joint-shift: with --headline-shift and no other shift rule only
    with pytest.raises(SystemExit) as stop:
        train_events.main(rule + ["--joint-shift", "--shift-rule", "headline-rank", "--headline-shift"])
    assert stop.value.code == 2 and "--joint-shift needs" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        train_events.main(rule + ["--joint-shift", "--headline-shift"])
    assert stop.value.code == 2 and "--joint-shift" not in capsys.readouterr().err
    # release 3.30 option --ranker-fit choice: with a ranked rule only
    with pytest.raises(SystemExit) as stop:
        train_events.main(["--rule", "headline-rank", "--ranker-fit", "choice", "--shared", str(tmp_path)])
    assert stop.value.code == 2 and "--ranker-fit choice needs a ranked --rule" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        train_events.main(rule + ["--ranker-fit", "choice"])
    assert stop.value.code == 2 and "--ranker-fit" not in capsys.readouterr().err


def test_cv_events_reads_the_folds_fold_events_wrote(tmp_path, monkeypatch):
    # Release 2.8, cv_events.py --folds: the out-of-fold scores come from fold_events.py's oof.npz,
    # a group's fold model from its saved folder, and only a group without one is fitted again.
    import cv_events
    import loso_events
    import numpy as np
    import train_events

    monkeypatch.setattr(loso_events, "CACHE", tmp_path)
    folder = tmp_path / "C2-w2-enc"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "classifier.json").write_text("{}", encoding="utf-8")
    items = [{"id": "1", "group": "a"}, {"id": "2", "group": "b"}, {"id": "3", "group": "a"}]
    both, alone = np.arange(48.0).reshape(3, 16), -np.arange(48.0).reshape(3, 16)
    np.savez(folder / "oof.npz", ids=np.array(["1", "2", "3"]), both=both, alone=alone)
    fitted = []
    monkeypatch.setattr(train_events, "load_fold", lambda path, ex, enc: ("read", path.name))
    monkeypatch.setattr(train_events, "fit", lambda rows, *a: fitted.append([r["id"] for r in rows]) or ("fit",))
    got_both, got_alone, models = cv_events.saved_folds(items, None, object(), 2.0, 2.0, log=lambda m: None)
    assert np.array_equal(got_both, both) and np.array_equal(got_alone, alone)
    assert models == {"a": ("read", "a"), "b": ("fit",)} and fitted == [["1", "3"]]
    # Scores written for other items are not used.
    assert cv_events.saved_folds(items[:2], None, object(), 2.0, 2.0, log=lambda m: None) is None
    assert cv_events.saved_folds(items, None, object(), 1.0, 2.0, log=lambda m: None) is None


def test_fold_events_saves_every_folds_model(tmp_path, monkeypatch):
    # Release 2.8: a corpus writer's fold model is written too (cv_events.py --folds reads it),
    # beside its out-of-fold part.
    import fold_events
    import numpy as np

    items = [{"id": "1", "group": "w1"}, {"id": "2", "group": "tune"}]
    saved = []
    monkeypatch.setattr(fold_events, "CACHE", tmp_path)
    monkeypatch.setattr(fold_events, "require", lambda *a: None)
    monkeypatch.setattr(fold_events, "training_items", lambda shared: items)
    monkeypatch.setattr(fold_events, "extractor_from", lambda: None)
    monkeypatch.setattr(fold_events, "load_encoder", lambda name: type("E", (), {"dim": 1, "name": name})())
    monkeypatch.setattr(fold_events, "fit", lambda rows, *a: [r["id"] for r in rows])
    monkeypatch.setattr(fold_events, "save", lambda model, path: saved.append((model, path.name)))
    monkeypatch.setattr(fold_events, "item_decisions", lambda model, test: np.zeros((len(test), 16)))
    monkeypatch.setattr(fold_events, "headline_decisions", lambda model, test: np.ones((len(test), 16)))
    none = ["--vectors", str(tmp_path / "no-store")]   # the machine's out/vectors holds the real encoder's
    assert fold_events.main(["--group", "w1"] + none) == 0
    assert saved == [(["2"], "w1")]
    with np.load(tmp_path / "C2-w2-enc" / "parts" / "w1.npz") as f:
        assert list(f["ids"]) == ["1"] and f["alone"].sum() == 16
    # Release 3.7: another encoder's folds go to a folder of their own (WordLlama's keeps its name).
    assert fold_events.main(["--group", "w1", "--encoder", "wordllama+minilm"] + none) == 0
    assert (tmp_path / "C2-w2-enc-wordllama+minilm" / "parts" / "w1.npz").exists()
    # Release 3.23: --merge takes only parts written for these items, dictionaries and settings
    assert fold_events.main(["--group", "tune"] + none) == 0
    assert fold_events.main(["--merge"]) == 0 and (tmp_path / "C2-w2-enc" / "oof.npz").exists()
    with np.load(tmp_path / "C2-w2-enc" / "oof.npz") as f:
        fingerprint = str(f["fingerprint"])
    items[1] = dict(items[1], text="changed")   # a relabelled or edited item: same ids, other fingerprint
    assert fold_events.main(["--merge"]) == 1
    items[1] = {"id": "2", "group": "tune"}
    assert fold_events.main(["--merge"]) == 0
    with np.load(tmp_path / "C2-w2-enc" / "oof.npz") as f:
        assert str(f["fingerprint"]) == fingerprint


def test_threshold_events_leaves_out_a_group_the_fold_cache_was_written_without(tmp_path, monkeypatch):
    # A blind set seen after the folds ran is a training group the cache lacks: without
    # --leave-out the cache is refused as written for other items; with it the group is neither
    # trained on nor held out.
    import json as json_lib

    import numpy as np
    import threshold_events

    items, both, alone = ranked_scores(second_alone=0.0)
    later = [{"id": f"x{n}", "group": "blind2", "event_type": None, "category": "sport"} for n in range(5)]
    (tmp_path / "C2-w2-enc").mkdir()
    np.savez(tmp_path / "C2-w2-enc" / "oof.npz", ids=np.array([i["id"] for i in items]), both=both, alone=alone)
    monkeypatch.setattr(threshold_events, "CACHE", tmp_path)
    monkeypatch.setattr(threshold_events, "require", lambda *a: None)
    monkeypatch.setattr(threshold_events, "training_items", lambda shared: items + later)
    monkeypatch.setattr(threshold_events, "HELD_OUT", ("blind1", "blind2", "tune"))
    out = tmp_path / "figures.json"
    args = ["--recipes", "headline rank", "--misses", "--json", str(out)]
    assert threshold_events.main(args) == 1
    assert threshold_events.main(args + ["--leave-out", "blind2"]) == 0
    rows = json_lib.loads(out.read_text(encoding="utf-8"))["recipes"]["headline rank"]
    assert set(rows) == {"blind1", "tune", "mean"} and 0.0 < rows["mean"]["event_accuracy"] <= 1.0


def test_loso_events_passes_the_shift_rule_on(monkeypatch):
    # Release 2.9: loso_events.py --rule ranker --shift-rule headline-rank calibrates each held-out
    # set's fold model as the shipped 2.8 recipe does (train_events.py --shift-rule): the ranker
    # orders, the thresholds are headline-rank's; without --shift-rule the rule chooses its own shift.
    import argparse

    import loso_events
    import numpy as np
    import threshold_events
    import train_events

    items, both, alone = ranked_scores(second_alone=0.0)
    args = argparse.Namespace(rule="ranker", tune_on="shift", headline_platt=False, shift_grid="raise",
                              objective="sum", event_gate=False, shift_rule="headline-rank")
    calls = []
    real_shift = train_events.shift_thresholds
    monkeypatch.setattr(train_events, "shift_thresholds", lambda *a: calls.append(a[6]) or real_shift(*a))
    clf = threshold_events.blank_classifier
    got = loso_events.recipe_classifier(clf(), both, alone, items, args)
    hr = train_events.calibrate_real(clf(), both, alone, items, "headline-rank")
    assert calls == ["headline-rank", "headline-rank"]
    assert got.primary_rule == "ranker" and got.ranker is not None and np.array_equal(got.thresholds, hr.thresholds)
    calls.clear()
    loso_events.recipe_classifier(clf(), both, alone, items, argparse.Namespace(**{**vars(args), "shift_rule": None}))
    assert calls == ["ranker"]


def test_type_misses_sorts_each_wrong_type_item_into_one_kind():
    # Release 2.9 (docs/eval-events.md, "Release 2.9 classifier"): the error kinds of a seen set.
    import numpy as np
    import type_misses_events as tm

    k = len(EVENT_TYPES)
    thr = np.full(k, 0.5)
    low, both = np.full(k, 0.1), np.full(k, 0.1)
    near = low.copy()
    near[0] = 0.45
    assert tm.kind_of(0, -1, low, low, True, thr, -1, set()) == "none: nothing passes, far"
    assert tm.kind_of(0, -1, low, near, True, thr, -1, set()) == "none: nothing passes, near"
    assert tm.kind_of(0, -1, low, near, False, thr, -1, set()) == "none: nothing passes, far"   # no headline row
    both[3] = 0.9
    assert tm.kind_of(0, -1, both, low, True, thr, 3, set()) == "none: passed, coder dropped"
    assert tm.kind_of(0, 3, both, low, True, thr, 3, {3}) == "other: another labelled event"
    assert tm.kind_of(0, 3, both, low, True, thr, 3, set()) == "other: gold does not pass"
    assert tm.kind_of(0, 3, both, low, True, thr, 0, set()) == "other: coder differs"
    both[0] = 0.6
    assert tm.kind_of(0, 3, both, low, True, thr, 3, {3}) == "other: gold passes, ranked below"

    class Fixed:   # a classifier whose probabilities are given: type 1 on everything, type 0 on the headline
        types, thresholds, primary_rule, lead_shift, event_gate, ranker = list(EVENT_TYPES), thr, "headline-rank", 0.0, None, None

        def predict_proba(self, titles, leads):
            p = np.full((len(titles), k), 0.1)
            p[:, 1] = 0.9
            p[:, 0] = [0.95 if not lead else 0.2 for lead in leads]
            return p

    items = [{"id": "x-1", "title": "t", "text": "l", "event_type": EVENT_TYPES[0], "events": []},
             {"id": "x-2", "title": "t", "text": "l", "event_type": EVENT_TYPES[1], "events": []},
             {"id": "x-3", "title": "t", "text": "l", "event_type": None, "events": []},
             {"id": "x-4", "title": "t", "text": "l", "event_type": EVENT_TYPES[2],
              "events": [{"event_type": EVENT_TYPES[1]}]}]
    coded = {"x-1": EVENT_TYPES[1], "x-2": EVENT_TYPES[1], "x-3": "none", "x-4": EVENT_TYPES[1]}
    kinds, pairs, rows = tm.misses(items, coded, Fixed())
    assert [r["id"] for r in rows] == ["x-1", "x-4"]
    assert kinds == {"other: coder differs": 1, "other: another labelled event": 1}
    assert pairs[(EVENT_TYPES[2], EVENT_TYPES[1])] == 1

    class Verb(Fixed):   # release 3.9's rule: the headline "Envoy meets rebels" names CONSULT (type 1)
        primary_rule, headline_shift = "ranker-headline-verb", 0.0
        ranker = (np.zeros((k, 2 * k)), np.zeros(k))

    assert EVENT_TYPES[1] == "CONSULT"
    verb_items = [dict(i, title="Envoy meets rebels") for i in items]
    _, _, rows = tm.misses(verb_items, coded, Verb())
    # The classifier's own primary is now the coded CONSULT, so x-1 is no longer "coder differs".
    assert rows[0]["id"] == "x-1" and rows[0]["kind"] == "other: gold passes, ranked below"


def test_every_second_label_sample_is_of_corpus_items_and_iaa_prints_each(capsys):
    # The agreement samples (docs/plover-corpus.md) label corpus items with the same text; iaa_events
    # prints one line per sample by default. A sample that drifted from the corpus (other ids or
    # texts) or that the script skipped would fail here.
    import iaa_events
    from event_data import CORPUS, read_jsonl

    corpus = {row["id"]: row for row in read_jsonl(CORPUS)}
    names = {path.name for path in iaa_events.SECOND_LABELS}
    assert {"plover_corpus_second_labels.jsonl", "plover_corpus_w789_second_labels.jsonl",
            "plover_corpus_w101112_second_labels.jsonl", "plover_corpus_w1314_second_labels.jsonl",
            "plover_corpus_w151617_second_labels.jsonl", "plover_corpus_w181920_second_labels.jsonl"} <= names
    for path in iaa_events.SECOND_LABELS:
        rows = read_jsonl(path)
        assert rows and all(corpus[r["id"]]["text"] == r["text"] and corpus[r["id"]]["title"] == r["title"] for r in rows)
    assert iaa_events.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(names) and all("Cohen's kappa" in line for line in lines)
    # kappa 0.91-0.98 for w1-w17's samples; 0.81 for w18-w20's, whose pages (business, sport,
    # culture told in political words) sit on the line between a political act and another one
    assert all(float(line.split("none included) ")[1].split(";")[0]) > 0.80 for line in lines)


def test_headline_rows_add_each_headline_alone_with_its_items_labels():
    # Release 3.8 option: the coder scores every headline alone, so training can see headlines
    # alone too; without the option the rows are release 3.7's (headline + lead, and a corpus
    # item's lead alone).
    from train_events import rows_of

    items = [{"id": "1", "group": "w1", "title": "Kim meets Shoigu", "text": "Kim met Shoigu on Wednesday.",
              "event_type": "CONSULT"},
             {"id": "2", "group": "tune", "title": "", "text": "Shares rose.", "event_type": None},
             {"id": "3", "group": "blind1", "title": "Police fire tear gas", "text": "Police fired tear gas.",
              "event_type": "COERCE"}]
    titles, leads, y, owner = rows_of(items)
    assert list(zip(titles, leads)) == [("Kim meets Shoigu", "Kim met Shoigu on Wednesday."),
                                        ("", "Kim met Shoigu on Wednesday."), ("", "Shares rose."),
                                        ("Police fire tear gas", "Police fired tear gas.")]
    titles, leads, y, owner = rows_of(items, headline_rows=True)
    alone = [n for n, (t, lead) in enumerate(zip(titles, leads)) if t and not lead]
    assert [titles[n] for n in alone] == ["Kim meets Shoigu", "Police fire tear gas"]
    assert [owner[n] for n in alone] == [0, 2]
    assert all((y[n] == y[owner.index(owner[n])]).all() for n in alone) and y[alone].sum() == 2
