"""Near-duplicate filtering between every training and evaluation split (repository files only)."""
import json
from pathlib import Path

from pipelines.eval.dedup import THRESHOLD, ShingleIndex, containment, dedupe_across_groups, item_text, shingles

REPO = Path(__file__).resolve().parents[2]


def test_containment_catches_a_rewrite_and_not_an_independent_story():
    a = "Kenya and Tanzania signed a trade agreement in Nairobi on Tuesday, officials said."
    b = "Kenya and Tanzania signed a trade agreement in Nairobi on Tuesday, the two governments said."
    c = "Tanzania's president met Kenya's foreign minister in Dodoma to discuss a border dispute."
    assert containment(shingles(a), shingles(b)) >= THRESHOLD
    assert containment(shingles(a), shingles(c)) < THRESHOLD


def test_training_data_has_no_near_duplicate_across_groups():
    from event_data import corpus_items, training_items

    corpus = corpus_items()
    raw = [json.loads(line) for line in (REPO / "data" / "train" / "plover_corpus.jsonl")
           .read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(corpus) < len(raw)      # the filter did drop the cross-writer copy the corpus holds
    items = training_items(shared=None)   # corpus + tuning sets + seen blind sets, as the tests can read them
    assert {"blind1", "blind2", "blind3", "blind4", "tune"} <= {i["group"] for i in items}
    index = ShingleIndex()
    groups = []
    for item in items:
        for pos, _ in index.matches(item_text(item)):
            assert groups[pos] == item["group"], item["id"]
        index.add(item_text(item))
        groups.append(item["group"])


def test_dedupe_keeps_copies_within_a_group_and_drops_them_across():
    text = "Police in Lagos arrested three opposition activists at a rally on Sunday, witnesses said."
    items = [{"id": "w1-1", "title": "", "text": text}, {"id": "w1-2", "title": "", "text": text},
             {"id": "w2-1", "title": "", "text": text}]
    kept = dedupe_across_groups(items, lambda i: i["id"][:2])
    assert [i["id"] for i in kept] == ["w1-1", "w1-2"]


def test_every_scored_blind_set_matches_the_hash_frozen_before_it_was_scored():
    import hashlib

    folder = Path(__file__).resolve().parents[2] / "data" / "eval"
    hashes, checked = sorted(folder.glob("*.sha256")), []
    assert {"events_blind4.sha256", "events_blind5.sha256"} <= {h.name for h in hashes}
    for frozen in hashes:
        digest, name = frozen.read_text().split()[:2]
        if not (folder / name).exists():
            continue  # frozen for the next release: only its hash is committed until it is scored
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
        checked.append(name)
    assert {"events_blind4.jsonl", "events_blind5.jsonl", "story_pairs.jsonl"} <= set(checked)


def test_a_sealed_blind_file_opens_only_to_its_frozen_hash(tmp_path):
    import hashlib

    import pytest

    import seal_blind

    plain = ('{"id": "b99q-0001", "title": "Ministers meet in Lisbon", "text": "The ministers met."}\n' * 3).encode()
    sealed = seal_blind.seal(plain, "events_blind99.jsonl")
    assert b"Lisbon" not in sealed and b"ministers" not in sealed
    assert seal_blind.unseal(sealed, "events_blind99.jsonl") == plain
    (tmp_path / "events_blind99.sha256").write_text(hashlib.sha256(plain).hexdigest() + "  events_blind99.jsonl\n")
    assert seal_blind.frozen_digest("events_blind99.jsonl", tmp_path) == hashlib.sha256(plain).hexdigest()
    with pytest.raises(SystemExit):
        seal_blind.frozen_digest("events_blind98.jsonl", tmp_path)


def test_every_sealed_blind_set_opens_to_the_hash_frozen_for_it():
    import hashlib

    import seal_blind

    folder = REPO / "data" / "eval"
    for sealed in sorted((folder / "sealed").glob("*.sealed")):
        name = sealed.name.removesuffix(".sealed")
        assert not (folder / name).exists(), f"{name} is scored: its sealed copy goes when the file joins data/eval"
        plain = seal_blind.unseal(sealed.read_bytes(), name)
        assert hashlib.sha256(plain).hexdigest() == seal_blind.frozen_digest(name, folder), name
