"""Sentence vectors from WordLlama's static token embeddings, read offline from the pinned wheel.

``wordllama==0.4.0.post1`` (requirements/model.txt, installed ``--no-deps``) ships 256-d token
embeddings distilled from large language models (``weights/l2_supercat_256.safetensors``) and the
matching Llama tokenizer (``tokenizers/l2_supercat_tokenizer_config.json``). We read both files
ourselves (numpy for the safetensors layout, ``tokenizers`` for the tokenizer) instead of
importing the package, whose import pulls in unrelated dependencies. A text's vector is the mean
of its token vectors, L2-normalised, as WordLlama's own ``embed`` does. The cost is a tokenizer
call and a table lookup per text: about as cheap as TF-IDF.

The tokenizer's BPE model runs without its cache (issue #13). This Llama tokenizer has no
pre-tokenizer, so the cache's key is a whole text under 256 bytes: it almost never hits, and it
kept up to 10,000 sentences' merge states (~7 KB each), tens of MiB per worker that grew over the
first thousand articles of a run. Tokens are the same with and without it (tests/nlp/test_encoder.py).
"""
from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np

PACKAGE = "wordllama"
WEIGHTS = ("weights", "l2_supercat_256.safetensors")
TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
DIM = 256
MAX_TOKENS = 128


def package_dir() -> Path:
    """Folder of the installed wordllama package (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("wordllama is not installed: pip install --no-deps --require-hashes "
                                "-r requirements/model.txt")
    return Path(list(spec.submodule_search_locations)[0])


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as a numpy array (8-byte header size, JSON header, data)."""
    dtypes = {"F32": np.float32, "F16": np.float16, "BF16": None}
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        if dtype is None:
            raise ValueError(f"{path.name}: {info['dtype']} tensors are not supported")
        out[name] = np.frombuffer(raw, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize,
                                  offset=8 + size + start).reshape(info["shape"])
    return out


def uncached_bpe(model: dict):
    """The tokenizer file's BPE model (its ``model`` section), built again without a cache."""
    from tokenizers.models import BPE

    if model.get("type") != "BPE":
        raise ValueError(f"expected a BPE tokenizer model, found {model.get('type')!r}")
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    options = {k: model[k] for k in ("dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix",
                                     "fuse_unk", "byte_fallback", "ignore_merges") if model.get(k) is not None}
    return BPE(model["vocab"], merges, cache_capacity=0, **options)


class StaticEncoder:
    """Mean-pooled, normalised static token embeddings: texts -> float32 rows of length 256."""

    def __init__(self, table: np.ndarray, tokenizer):
        self.table = table
        self.tokenizer = tokenizer
        self.dim = table.shape[1]

    @classmethod
    def load(cls, folder: str | Path | None = None) -> "StaticEncoder":
        """Read the weights and the tokenizer (once per worker)."""
        from tokenizers import Tokenizer

        base = Path(folder) if folder else package_dir()
        tensors = read_safetensors(base.joinpath(*WEIGHTS))
        table = next(iter(tensors.values())).astype(np.float32)
        path = base.joinpath(*TOKENIZER)
        tokenizer = Tokenizer.from_file(str(path))
        tokenizer.model = uncached_bpe(json.loads(path.read_text(encoding="utf-8"))["model"])
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        return cls(table, tokenizer)

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalised vector per text (zeros for an empty text)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        for row, enc in enumerate(self.tokenizer.encode_batch([t or "" for t in texts], add_special_tokens=False)):
            ids = [i for i in enc.ids if i < len(self.table)]
            if ids:
                vec = self.table[ids].mean(axis=0)
                norm = float(np.linalg.norm(vec))
                if norm > 0:
                    out[row] = vec / norm
        return out
