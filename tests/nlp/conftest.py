"""Fixtures of the NLP tests: the spaCy pipeline and the event coder, loaded once per test module."""
import pytest

from pipelines.nlp.events import EventCoder
from pipelines.nlp.ner import load_nlp


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


@pytest.fixture(scope="module")
def coder():
    return EventCoder.load()
