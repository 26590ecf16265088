"""scripts/encode_events.py and train_events.CachedEncoder: every training text's vector is
encoded once into the vector store and read back instead of encoded again (release 3.23)."""
import sys
from pathlib import Path

import numpy as np

from tests.fixtures import stand_in_shared

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))


class Refusing:
    """An encoder that must not be asked: every text it would encode is in the store (only the
    store's probe sentences, which check the store against the encoder, go to the real one)."""

    def __init__(self, encoder):
        self.encoder, self.name, self.dim = encoder, encoder.name, encoder.dim

    def encode(self, texts):
        from train_events import PROBE

        if list(texts) == list(PROBE):
            return self.encoder.encode(texts)
        raise AssertionError(f"asked to encode {len(texts)} texts the store holds")


def test_the_store_holds_every_training_text_once_and_serves_it(tmp_path, capsys):
    from encode_events import main, training_texts
    from event_data import training_items
    from train_events import CachedEncoder, stored_vectors, text_key, vector_folder

    from pipelines.nlp.encoder import WORDLLAMA, load_encoder

    shared, store = stand_in_shared(tmp_path / "shared"), tmp_path / "vectors"
    texts = training_texts(training_items(shared))
    assert len(texts) > 1000 and texts == sorted(set(texts)) and "" not in texts
    for part in ("1", "2"):   # two shares, as two processes side by side would write them
        assert main(["--shared", str(shared), "--store", str(store), "--encoder", "wordllama",
                     "--part", part, "--of", "2"]) == 0
    files = sorted(vector_folder(store, WORDLLAMA).glob("*.npz"))
    assert len(files) == 2 and not list(vector_folder(store, WORDLLAMA).glob(".*"))   # no partial file left
    sizes = []
    for path in files:
        with np.load(path) as f:
            sizes.append(len(f["keys"]))
    assert sum(sizes) == len(texts) and abs(sizes[0] - sizes[1]) <= 1   # each text once, in halves
    encoder = load_encoder(WORDLLAMA)
    stored = stored_vectors(store, encoder)
    assert set(stored) == {text_key(t) for t in texts}
    # a second run finds nothing to encode and writes nothing
    assert main(["--shared", str(shared), "--store", str(store), "--encoder", "wordllama"]) == 0
    assert "1 of 1: 0 to encode" in capsys.readouterr().err
    assert sorted(vector_folder(store, WORDLLAMA).glob("*.npz")) == files
    # the stored vectors are the encoder's own, and a CachedEncoder on the store encodes none of them
    sample = texts[::97]
    cached = CachedEncoder(Refusing(encoder), store)
    assert cached.stored == len(texts)
    assert np.allclose(cached.encode(sample + sample[:3]), encoder.encode(sample + sample[:3]), atol=1e-5)
    # a text the store lacks goes to the encoder; without a store every text does
    fresh = CachedEncoder(encoder, None)
    assert fresh.stored == 0 and np.allclose(fresh.encode(["A text no training item holds."]),
                                             encoder.encode(["A text no training item holds."]), atol=1e-6)
    try:
        cached.encode(["A text no training item holds."])
    except AssertionError as e:
        assert "asked to encode 1 texts" in str(e)
    else:
        raise AssertionError("a text missing from the store was not sent to the encoder")


def test_a_vector_file_of_another_encoder_version_or_size_is_refused(tmp_path):
    # a file whose probe sentences the encoder no longer encodes the same (code or weights changed
    # under the same name), or of another dimension, is refused, not served stale; another
    # encoder's folder is not read at all
    import pytest
    from train_events import PROBE, CachedEncoder, stored_vectors, text_key, vector_folder

    from pipelines.nlp.encoder import MINILM, WORDLLAMA, load_encoder

    encoder = load_encoder(WORDLLAMA)
    folder = vector_folder(tmp_path, WORDLLAMA)
    folder.mkdir(parents=True)
    texts = ["The council met on Monday.", "Rebels shelled the town."]
    keys, vectors, probe = np.array([text_key(t) for t in texts]), encoder.encode(texts), encoder.encode(list(PROBE))
    np.savez(folder / "vectors-a.npz", keys=keys, vectors=vectors, probe=probe)
    assert set(stored_vectors(tmp_path, encoder)) == set(keys)
    other = vector_folder(tmp_path, MINILM)   # another encoder's file, of another size: never opened
    other.mkdir()
    np.savez(other / "vectors-b.npz", keys=keys, vectors=np.zeros((2, 3)), probe=np.zeros((3, 3)))
    assert CachedEncoder(encoder, tmp_path).stored == 2
    np.savez(folder / "vectors-c.npz", keys=keys, vectors=vectors, probe=probe[::-1])   # the probes moved
    with pytest.raises(ValueError, match="another version"):
        stored_vectors(tmp_path, encoder)
    (folder / "vectors-c.npz").unlink()
    np.savez(folder / "vectors-d.npz", keys=keys, vectors=vectors)   # no probes at all
    with pytest.raises(ValueError, match="another version"):
        stored_vectors(tmp_path, encoder)
    (folder / "vectors-d.npz").unlink()
    np.savez(folder / "vectors-e.npz", keys=keys, vectors=vectors[:, :10], probe=probe)
    with pytest.raises(ValueError, match="dimensions"):
        stored_vectors(tmp_path, encoder)


def test_an_out_of_fold_cache_of_other_texts_labels_or_settings_is_not_used(tmp_path):
    # release 3.23: make events-model passes --oof-cache; a cache with the same ids but another text,
    # label or setting (its fingerprint) falls back to fitting the folds, and says why
    from train_events import cached_out_of_fold, fold_fingerprint

    items = [{"id": "1", "group": "w1", "title": "A", "text": "Troops shelled the town.", "event_type": "ASSAULT"},
             {"id": "2", "group": "w2", "title": "", "text": "Shares rose.", "event_type": None}]
    fp = fold_fingerprint(items, "enc", 2.0, 1.0, 2.0, False)
    both, alone = np.ones((2, 16)), np.zeros((2, 16))
    path = tmp_path / "oof.npz"
    np.savez(path, ids=np.array(["1", "2"]), both=both, alone=alone, fingerprint=np.array(fp))
    said = []
    got = cached_out_of_fold(path, items, fp, said.append)
    assert got is not None and np.array_equal(got[0], both) and said == []
    relabelled = [dict(items[0], event_type="PROTEST"), items[1]]
    for changed in (fold_fingerprint(relabelled, "enc", 2.0, 1.0, 2.0, False),
                    fold_fingerprint([items[0], dict(items[1], text="Shares fell.")], "enc", 2.0, 1.0, 2.0, False),
                    fold_fingerprint(items, "other", 2.0, 1.0, 2.0, False),
                    fold_fingerprint(items, "enc", 1.0, 1.0, 2.0, False),
                    fold_fingerprint(items, "enc", 2.0, 1.0, 2.0, True)):
        assert changed != fp
        assert cached_out_of_fold(path, items, changed, said.append) is None
    assert len(said) == 5 and all("fitted again" in line for line in said)
    assert cached_out_of_fold(path, items[::-1], fp, said.append) is None and "other items" in said[-1]
    assert cached_out_of_fold(tmp_path / "none.npz", items, fp, said.append) is None and "no out-of-fold" in said[-1]
