"""scripts/encode_events.py and train_events.CachedEncoder: every training text's vector is
encoded once into the vector store and read back instead of encoded again (release 3.23)."""
import sys
from pathlib import Path

import numpy as np

from tests.fixtures import stand_in_shared

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))


class Refusing:
    """An encoder that must not be asked: every text it would encode is in the store."""

    def __init__(self, encoder):
        self.name, self.dim = encoder.name, encoder.dim

    def encode(self, texts):
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
    assert len(files) == 2
    encoder = load_encoder(WORDLLAMA)
    stored = stored_vectors(store, WORDLLAMA, encoder.dim)
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
