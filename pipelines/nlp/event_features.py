"""Text features of the PLOVER sentence classifier, shared by training and the coder.

Features are lower-cased word unigrams and bigrams with digits folded, country names and
nationality words replaced by a placeholder (the synthetic training stories fill templates
with arbitrary countries, so the names carry no signal), and dictionary evidence: every
verb form found in the CAMEO verb dictionary adds ``v:<PLOVER type>`` and ``c:<CAMEO root>``, and
every form of a hand-picked reliable verb ("condemn", "arrest", ...) adds ``s:<PLOVER type>``.
"""
from __future__ import annotations

import re

TOKEN_RE = re.compile(r"[a-z][a-z'\-]*|\d+")
SENT_RE = re.compile(r"(?<=[.!?])[\"'”’]?\s+(?=[A-Z\"“‘(])")
COUNTRY_TOKEN = "<ctry>"


class FeatureExtractor:
    """Turn a sentence into the classifier's feature strings (no model state, just tables)."""

    def __init__(self, verbs: dict[str, list], countries: dict[str, str],
                 strong_verbs: dict[str, list] | None = None):
        self._verbs = verbs
        self._strong = strong_verbs or {}
        self._single = {k for k in countries if " " not in k}
        self._double = {k for k in countries if k.count(" ") == 1}

    def tokens(self, text: str) -> list[str]:
        """Normalised word tokens (countries folded to one placeholder)."""
        raw = TOKEN_RE.findall(text.lower())
        out: list[str] = []
        i = 0
        while i < len(raw):
            if i + 1 < len(raw) and f"{raw[i]} {raw[i + 1]}" in self._double:
                out.append(COUNTRY_TOKEN)
                i += 2
                continue
            tok = raw[i]
            out.append(COUNTRY_TOKEN if tok in self._single else ("0" if tok[0].isdigit() else tok))
            i += 1
        return out

    def __call__(self, text: str) -> list[str]:
        """Feature strings of one sentence."""
        toks = self.tokens(text)
        feats = list(toks)
        feats.extend(f"{a} {b}" for a, b in zip(toks, toks[1:]))
        for tok in toks:
            hit = self._verbs.get(tok)
            if hit:
                feats.append("v:" + hit[1])
                feats.append("c:" + hit[0][:2])
            strong = self._strong.get(tok)
            if strong:
                feats.append("s:" + strong[0])
        return feats


def split_sentences(text: str) -> list[str]:
    """Rough sentence split for training text (the coder uses spaCy's sentences)."""
    parts = []
    for para in re.split(r"\n\s*\n|\n", text):
        para = para.strip()
        if para:
            parts.extend(s.strip() for s in SENT_RE.split(para) if s.strip())
    return parts
