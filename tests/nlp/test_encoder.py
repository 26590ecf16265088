"""The sentence encoders: WordLlama's tokenizer (the shipped tokens, no memory kept per text, issue #13)
and MiniLM-L6's numpy forward pass (release 3.7 option)."""
from __future__ import annotations

import ctypes
import random

import numpy as np
import pytest
from tokenizers import Tokenizer

from pipelines.nlp.encoder import (MINILM, TOKENIZER, WORDLLAMA, StaticEncoder, TransformerEncoder, load_encoder,
                                   package_dir, uncached_bpe)


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def c_heap_in_use() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2().uordblks


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ("minister", "talks", "border", "ceasefire", "Nairobi", "parliament", "shares", "rose", "police",
             "protesters", "accused", "the", "of", "in", "on", "a", "said", "government", "rebels", "aid",
             "sanctions", "Tuesday", "Kyiv", "Brasília", "Ouagadougou", "Dhaka", "union", "strike", "court")
    return [" ".join(rng.choice(words) for _ in range(22)) + f" {seed}-{i}." for i in range(n)]


@pytest.fixture(scope="module")
def encoder() -> StaticEncoder:
    return StaticEncoder.load()


def test_tokens_are_the_tokenizer_files_own(encoder):
    plain = Tokenizer.from_file(str(package_dir().joinpath(*TOKENIZER)))
    texts = sentences(200, 1) + ["Ünïcödé — “quotes” 中文 🙂", "two  spaces   here", "", "Kenya and Tanzania sign a deal"]
    ours = [e.ids for e in encoder.tokenizer.encode_batch(texts, add_special_tokens=False)]
    assert ours == [e.ids for e in plain.encode_batch(texts, add_special_tokens=False)]
    assert sum(map(len, ours)) > 200 * 22


def test_encoding_many_distinct_texts_keeps_no_memory(encoder):
    # With the library's cache every distinct text under 256 bytes (a sentence) stayed: ~20 MiB here.
    encoder.encode(sentences(500, 2))
    before = c_heap_in_use()
    for start in range(0, 3000, 50):
        encoder.encode(sentences(50, 100 + start))
    assert c_heap_in_use() - before < 2 * 2**20


def test_a_tokenizer_model_other_than_bpe_is_refused():
    with pytest.raises(ValueError, match="BPE"):
        uncached_bpe({"type": "WordPiece", "vocab": {}})


@pytest.fixture(scope="module")
def minilm() -> TransformerEncoder:
    return TransformerEncoder.load()


def test_minilm_puts_a_paraphrase_nearer_than_another_story(minilm):
    # A broken forward pass (weights misread, the mask ignored, a layer skipped) loses this order.
    v = minilm.encode(["Russia's security chief meets Kim Jong Un in Pyongyang",
                       "Putin's envoy holds talks with the North Korean leader",
                       "Arsenal beat Chelsea 2-0 to go top of the league",
                       "Chelsea lose 2-0 at Arsenal"])
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[2, 3] > sim[1, 3] + 0.2
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_minilm_vectors_do_not_depend_on_the_batch(minilm):
    # Texts of other lengths in one batch are padded: the mask must keep padding out of the result.
    texts = ["Police detain 40 protesters in Dhaka.", "Talks.", "",
             "The European Union imposed new sanctions on Russian oil exports on Tuesday, officials said.",
             "Police detain 41 protesters in the city of Dhaka."]
    lengths = [len(minilm.tokenizer.encode(t).ids) for t in (texts[0], texts[4])]
    assert lengths[0] != lengths[1] and len(minilm._chunks([0, 4], sorted(lengths))) == 1   # padded together
    together = minilm.encode(texts)
    alone = np.vstack([minilm.encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert not together[2].any() and together[[0, 1, 3, 4]].any(axis=1).all()


def test_minilm_batches_texts_of_similar_length(minilm):
    # A headline beside its 128-token lead would be padded to 128 tokens: it runs in a batch of its own.
    assert minilm._chunks([0, 1, 2, 3, 4], [3, 9, 10, 20, 128]) == [[0], [1, 2], [3], [4]]
    assert [len(c) for c in minilm._chunks(list(range(40)), [30] * 40)] == [16, 16, 8]   # at most ``batch``


def test_the_float32_erf_is_scipys_to_float32_precision():
    from scipy.special import erf

    from pipelines.nlp.encoder import _erf

    x = np.linspace(-12, 12, 200001, dtype=np.float32)
    got = _erf(x)
    assert got.dtype == np.float32
    assert np.abs(got - erf(x.astype(np.float64))).max() < 1e-6


def test_load_encoder_joins_the_named_encoders():
    joined = load_encoder(f"{WORDLLAMA}+{MINILM}")
    assert joined.name == f"{WORDLLAMA}+{MINILM}" and joined.dim == 256 + 384
    v = joined.encode(["Kenya and Tanzania sign a trade deal"])
    assert np.allclose(np.linalg.norm(v[0, :256]), 1.0, atol=1e-5)
    assert np.allclose(np.linalg.norm(v[0, 256:]), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="unknown sentence encoder"):
        load_encoder(f"{WORDLLAMA}+bert-large")
