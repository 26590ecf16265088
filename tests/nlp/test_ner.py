"""The shared spaCy pipeline and its news adaptations."""
import pytest

from pipelines.nlp.ner import ENTITY_RULES, load_nlp


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def test_full_pipeline_is_kept(nlp):
    for name in ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner", ENTITY_RULES):
        assert name in nlp.pipe_names
    assert nlp.pipe_names.index(ENTITY_RULES) == nlp.pipe_names.index("ner") + 1
    doc = nlp("Sergei Shoigu met Kim Jong Un in Pyongyang on Wednesday.")
    assert doc.has_annotation("DEP") and doc.has_annotation("TAG")


def test_headline_verb_is_not_part_of_a_name(nlp):
    doc = nlp("Russian Security Council Secretary Shoigu Meets With Kim Jong-Un")
    people = [text for text, label in ents(doc) if label == "PERSON"]
    assert "Shoigu Meets" not in people
    assert not any("Meets" in text for text, _ in ents(doc))


def test_ontonotes_labels_are_kept(nlp):
    doc = nlp("On Wednesday, Russian Security Council Secretary Sergei Shoigu met North Korean "
              "leader Kim Jong Un in Pyongyang.")
    labels = {label for _, label in ents(doc)}
    assert {"PERSON", "GPE", "NORP", "DATE"} <= labels
    assert ("Pyongyang", "GPE") in ents(doc)


def test_titles_and_possessive_tokens_are_trimmed(nlp):
    from spacy.tokens import Span

    from pipelines.nlp.ner import clean_entities

    doc = nlp.make_doc("President Vladimir Putin 's plan")
    for name, proc in nlp.pipeline:
        if name not in ("ner", ENTITY_RULES):
            doc = proc(doc)
    doc.set_ents([Span(doc, 0, 4, label="PERSON")], default="outside")
    assert ents(clean_entities(doc)) == [("Vladimir Putin", "PERSON")]


def test_bare_model_has_no_adaptations():
    bare = load_nlp(improved=False)
    assert ENTITY_RULES not in bare.pipe_names
    assert "newsflow_ner" not in bare.meta


def test_nationality_plus_institution_is_one_org(nlp):
    assert ("Russian Security Council", "ORG") in ents(nlp("The Russian Security Council met in Moscow."))
    assert ("Russian Embassy", "ORG") in ents(nlp("the Russian Embassy in Pyongyang said"))
    # A nationality before a person or a common noun stays a NORP.
    assert ("Russian", "NORP") in ents(nlp("Russian President Vladimir Putin spoke."))
    assert ("Russian", "NORP") in ents(nlp("Russian troops moved."))


def test_names_stop_at_headline_verbs(nlp):
    found = ents(nlp("Zelensky Urges Allies To Send More Air Defence"))
    assert ("Zelensky", "PERSON") in found
    assert not any("Urges" in text for text, _ in found)
    assert not any("Pushes" in text for text, _ in ents(nlp("Golden Dome Pushes Toward Space-Based War")))


def test_weights_round_trip_and_mismatch(tmp_path):
    import numpy

    from pipelines.nlp.ner import export_ner_weights, import_ner_weights

    bare = load_nlp(improved=False)
    ner = bare.get_pipe("ner")
    path = tmp_path / "w.npz"
    export_ner_weights(ner, path)
    with numpy.load(path) as arrays:
        assert all(arrays[k].dtype == numpy.float16 for k in arrays.files)
        first = arrays.files[0]
        partial = {k: arrays[k] for k in arrays.files if k != first}
    import_ner_weights(ner, path)  # its own weights fit
    broken = tmp_path / "broken.npz"
    numpy.savez(broken, **partial)
    with pytest.raises(ValueError, match="architecture"):
        import_ner_weights(ner, broken)
