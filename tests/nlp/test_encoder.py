"""The sentence encoder's tokenizer: the shipped tokens, and no memory kept per text (issue #13)."""
from __future__ import annotations

import ctypes
import random

import pytest
from tokenizers import Tokenizer

from pipelines.nlp.encoder import TOKENIZER, StaticEncoder, package_dir, uncached_bpe


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
