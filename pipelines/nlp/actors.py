"""Event arguments from spaCy's dependency parse: source and target actors, place and date.

The source is the event verb's subject (or the ``by`` agent of a passive), the target its
object or the object of ``with``/``to``/``against``/... . An actor's phrase is the noun's
left modifiers plus an ``of`` complement ("North Korean leader Kim Jong Un", "the leader of
North Korea"). Its country comes from the entity resolver when it knows one, else from
nationality and place words in the phrase, else from the Phoenix actor dictionary (date-ranged
roles); a person without one takes the nationality or place word that introduces them elsewhere
in the article (release 2.8); its
sector from agent words ("leader", "police", "rebels") or the actor dictionary.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from pipelines.nlp.countries import country_for, normalize_name
from pipelines.nlp.dates import resolve_date
from pipelines.nlp.geo import PLACE_LABELS
from pipelines.resources import resource_path

SUBJECTS = ("nsubj", "csubj")
# A participle modifying a noun names no act of the sentence ("the ruling party", "armed men",
# "the detained senator").
MODIFIER_DEPS = ("amod", "compound")
TARGET_PREPS = ("with", "to", "against", "on", "for", "into", "toward", "towards", "from", "at")
PLACE_PREPS = ("in", "at", "near", "outside", "inside", "across", "from", "through")
ACTOR_LABELS = ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC")
REPORTING = {"say", "tell", "add", "state", "report", "note", "announce", "write", "quote"}
MALE_FEMALE = {"he", "she", "him", "her"}
# Subject pronouns that stand for an actor named elsewhere in the sentence.
REFERRING = {"it", "they", "we", "he", "she"}
# Participles whose "by" names who carries out the act a noun names ("a strike [called] by
# unions", "an attack [claimed] by the group"); not those that name a bystander who reports,
# confirms, condemns or judges it ("an attack condemned by the UN"): ``complement_actors``.
AGENTIVE_PARTICIPLES = frozenset({"call", "organise", "organize", "stage", "launch", "lead", "carry", "mount",
                                  "conduct", "claim", "order", "spearhead", "plan", "fire", "wage"})
# English pronouns (a closed class of the grammar): a word the tagger calls a pronoun that is none
# of these and is capitalised is a name it misread ("Houthis seize ship").
PRONOUNS = frozenset("""i me my mine myself you your yours yourself yourselves he him his himself she her hers
herself it its itself we us our ours ourselves they them their theirs themselves one oneself who whom whose
which what that this these those whoever whatever whichever someone somebody something anyone anybody anything
everyone everybody everything no noone nobody nothing none each either neither both all some any many much
few several most more less other others another such half there here""".split())
# Verbs of speech beyond plain reporting: their subject is the one who acts in the reported clause's pronoun.
SPEECH = {"claim", "insist", "vow", "pledge", "warn", "threaten", "promise", "confirm", "deny", "admit", "declare"}


# A formal state name ending in "of [the] <short name>" ("democratic republic of the congo"; 3.19)
SHARED_NAME_RE = re.compile(r"\bof (?:the )?([a-z]+)$")


@dataclass
class ActorTables:
    """Compact dictionaries built by scripts/build_event_resources.py."""

    countries: dict[str, str]
    agents: dict[str, str]
    actors: dict[str, list]
    # ISO 3166-2 names of one country's provinces, states and regions -> ISO-3
    # (scripts/build_subdivisions.py; release 2.9)
    subdivisions: dict[str, str] = field(default_factory=dict)
    # agent words learned from the PLOVER corpus's gold actors -> sector
    # (scripts/build_corpus_agents.py; release 3.21's ``corpus_agents``)
    corpus_agents: dict[str, str] = field(default_factory=dict)
    # heads of the PLOVER corpus's gold actor spans the agent table lacks, without the sector test
    # (scripts/build_corpus_agents.py; release 3.26's candidate ``party_heads``)
    corpus_parties: frozenset[str] = frozenset()
    # a person's name key (or a long name's last word) -> the country the PLOVER corpus's gold
    # actor spans give them (scripts/build_corpus_agents.py; release 3.27's candidate ``corpus_people``)
    corpus_people: dict[str, str] = field(default_factory=dict)


@dataclass
class ArticleContext:
    """Per-article state: publication day and the last person named (for 'he'/'she')."""

    published_at: datetime | None
    entities: list[dict]
    last_person: dict | None = None
    known: dict[str, tuple] = field(default_factory=dict)   # entity_id -> (country, sector)
    default_country: str | None = None
    # entity_id of a person -> the country word that introduces them somewhere in the article
    # ("Ukrainian President Volodymyr Zelensky", "India's foreign minister S. Jaishankar"; 2.8)
    introduced: dict[str, str] = field(default_factory=dict)
    # the country of the place a wire dateline opens the body with ("SANTO DOMINGO -", 2.9)
    dateline_country: str | None = None
    ranked: list[str] = field(default_factory=list)
    # entity_id of a person -> IGO / NGO when a phrase names them by an international office (3.0)
    offices: dict[str, str] = field(default_factory=dict)
    # (``titled_people``, measured in 3.32, not kept) a title word's lemma -> the people the article introduces
    # by it just before their name ("Iranian [ambassador] Ahmad Sadeghi"), each once
    titled: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self):
        self.rank_countries()

    def rank_countries(self, place_country=None, extra_labels: tuple[str, ...] = ()) -> None:
        """The country the article's entities name most (the first named on a tie): "MPs" in a
        story about Westminster are British. Only used for actors that name an agent but no
        country. ``place_country(ent)`` gives a country to entities that have none (2.9)."""
        counts: dict[str, int] = {}
        for ent in self.entities:
            country = ent.get("country") or (place_country(ent) if place_country else None)
            if country and (ent.get("label") in ("GPE", "NORP", "ORG", "LOC", "FAC")
                            or (ent.get("label") in extra_labels and not ent.get("country"))):
                counts[country] = counts.get(country, 0) + 1
        if counts:
            self.default_country = max(counts, key=counts.get)
        # the article's countries, most named first (the first named on a tie)
        self.ranked = sorted(counts, key=lambda c: -counts[c])

    def observe(self, sent, ents: list[dict]) -> None:
        """Remember the last person entity of a sentence once it has been coded."""
        for ent in _overlapping(ents, sent.start_char, sent.end_char):
            if ent.get("label") == "PERSON":
                self.last_person = ent


def verb_entry(tok, strong: dict[str, list]) -> list | None:
    """[PLOVER type, CAMEO root, mode] of a reliable event verb token, else None."""
    if tok.lower_ in ("call", "calls", "called", "calling") and any(
            c.dep_ == "prep" and c.lower_ == "for" for c in tok.children):
        return ["REQUEST", "10", None]
    return strong.get(tok.lower_) or strong.get(tok.lemma_.lower())


def event_verb(sent, verbs: dict[str, list], strong: dict[str, list] | None = None):
    """The token that carries the sentence's event.

    A reliable event verb nearest the root, else any CAMEO dictionary verb nearest the root,
    else the root (past a reporting verb such as "said").
    """
    if strong:
        best = _nearest_root(sent, lambda tok: verb_entry(tok, strong) is not None)
        if best is not None:
            return best
    best = _nearest_root(sent, lambda tok: bool(verbs.get(tok.lower_) or verbs.get(tok.lemma_.lower())))
    if best is not None:
        return best
    root = sent.root
    if root.lemma_.lower() in REPORTING:
        for child in root.children:
            if child.dep_ in ("ccomp", "xcomp") and child.pos_ in ("VERB", "AUX"):
                return child
    return root


def main_predicate(sent):
    """The sentence's main verb, past a reporting verb ("Officials said [troops shelled] ..."), or None."""
    root = sent.root
    if root.lemma_.lower() in REPORTING | SPEECH:
        root = next((c for c in root.children if c.dep_ == "ccomp" and c.pos_ in ("VERB", "AUX")), root)
    return root if root.pos_ in ("VERB", "AUX") and root.lemma_.lower() not in REPORTING else None


def _nearest_root(sent, accept):
    root = sent.root
    best, best_depth = None, 99
    for tok in sent:
        if tok.pos_ not in ("VERB", "NOUN", "PROPN", "AUX") and tok.tag_ not in ("VBZ", "VBD", "VBP"):
            continue
        if tok.dep_ in MODIFIER_DEPS:
            continue
        if tok.lemma_.lower() in REPORTING or not accept(tok):
            continue
        depth, cur = 0, tok
        while cur.i != cur.head.i and cur.i != root.i and depth < 20:
            cur, depth = cur.head, depth + 1
        # Verbs outrank nouns ("attack" the noun in a headline is weaker than a finite verb).
        depth += 0 if tok.pos_ in ("VERB", "AUX") else 3
        if depth < best_depth:
            best, best_depth = tok, depth
    return best


SIDE_DEPS = ("advcl", "parataxis")
SIDE_PREPS = ("following", "after", "amid", "despite", "before", "since", "as")


def core_clause(sent, verb) -> str | None:
    """The event verb's own clause: the sentence minus side clauses ("..., as the two countries
    continue to strengthen their alliance"), or None when nothing would be removed."""
    if verb is None:
        return None
    drop = set()
    for child in verb.children:
        if (child.dep_ in SIDE_DEPS or (child.dep_ == "conj" and child.pos_ in ("VERB", "AUX"))
                or (child.dep_ in ("prep", "mark") and child.lower_ in SIDE_PREPS)):
            drop.update(t.i for t in child.subtree)
    if not drop:
        return None
    kept = [t for t in sent if t.i not in drop]
    if sum(1 for t in kept if t.is_alpha) < 4:
        return None
    return "".join(t.text_with_ws for t in kept).strip()


def find_arguments(sent, verb, is_actor=None, wide_datelines: bool = True, glued_prep: bool = True,
                   dative: bool = True, bare_passive: bool = True, listed_any: bool = True,
                   listed_first: bool = True, glued_conj: bool = False, glued_infinitive: bool = False,
                   named_actor=None):
    """(source span, target span) of the event verb; either may be None.

    ``is_actor(token)`` says whether a noun names an actor (an entity, an agent word such as
    "police", a pronoun); with it, the target is the first actor among the verb's object, its
    prepositional objects and the object's own complements ("warrant for Putin", "Trump's
    offer", "an ambush on peacekeepers"), not an abstract object ("the idea", "talks"), and a
    source with an actor conjunct ("Kenya and Ethiopia opened ...") gives that conjunct as the
    target when nothing else does. ``wide_datelines``: datelines with a comma ("KHARTOUM, March
    4 -") are not actors either (``dateline_end``); ``glued_prep``: see ``glued_verb_arguments``;
    ``dative``: a "to" the parser labels as the verb's dative ("granted bail [to] the lawmaker",
    "handed over the villages [to] Tajikistan") leads to a target like any target preposition;
    ``bare_passive``: a headline passive without its auxiliary ("X fined by Y", "X beaten by Y")
    has X, parsed as the verb's subject or as the noun its participle describes, as target;
    ``listed_any``: a headline's comma list of two actors in more parses (``_listed_pair``);
    ``listed_first`` (release 2.7): when the verb's object already names the target, a comma
    list of two actors as subject ("Qatar, Egypt mediators deliver proposal to Hamas") acts with
    its first name as source, as a joint subject with "and" does (only for a named target: "hold
    joint [naval] drill" is an actor by its modifier and leaves the list to be source and
    target); ``glued_conj`` and ``glued_infinitive`` (measured in 2.7, off): see
    ``glued_verb_arguments``; ``named_actor`` (``CoderConfig.agent_complement``, release 3.11;
    None for off): a test of whether a noun is an actor by itself (``ActorResolver.is_named_actor``: "general strike"
    is none, though "general" is an agent word) for a source that names an act and has its
    actors in its own complement (``complement_actors``).
    """
    if verb is None:
        return None, None
    if is_actor is not None:
        glued = glued_verb_arguments(verb, is_actor, glued_prep, glued_conj, glued_infinitive)
        if glued is not None:
            return glued
    source = target = None
    cur = verb
    if verb.pos_ in ("NOUN", "PROPN") and verb.dep_ == "pobj" and verb.head.head.pos_ in ("VERB", "AUX"):
        cur = verb.head.head  # "civil servants were [on strike]": the clause's subject strikes
    clause = cur
    for _ in range(4):  # conjoined or embedded verbs share their head's subject
        for child in cur.children:
            if child.dep_ in SUBJECTS and source is None:
                child = _past_dateline(child, wide_datelines)
                if child is not None:
                    source, clause = child, cur
            elif child.dep_ == "nsubjpass" and target is None:
                target = _past_dateline(child, wide_datelines) if wide_datelines else child
            elif child.dep_ == "agent":
                pobj = [c for c in child.children if c.dep_ == "pobj"]
                if pobj:
                    if bare_passive and target is None and source is not None and source.head.i == cur.i:
                        # "Two editors [detained] by police": a headline passive without "were",
                        # parsed with an active subject; the subject is the one acted on.
                        target = source
                    source = pobj[0]
        # Only clauses that share the head's subject: conjuncts, "agreed to meet", "marched to protest".
        purpose = cur.dep_ == "advcl" and (any(c.dep_ == "aux" and c.lower_ == "to" for c in cur.children)
                                           or shares_subject(cur))
        if source is not None or (cur.dep_ not in ("conj", "xcomp") and not purpose) or cur.head is cur:
            break
        cur = cur.head
    if bare_passive and target is None and verb.dep_ == "acl" and verb.tag_ == "VBN" \
            and any(c.dep_ == "agent" for c in verb.children) and verb.head.pos_ in ("NOUN", "PROPN") \
            and (is_actor is None or is_actor(verb.head)):
        target = verb.head   # "Two journalists [beaten] by police": the noun the participle describes
    if source is None and is_actor is not None:
        source, target = _governing_arguments(verb, target, is_actor, wide_datelines)
    if source is None and is_actor is not None:
        source = _compound_subject(verb, is_actor) or _when_clause_subject(verb, is_actor)
    if source is not None and source.lower_ in REFERRING and is_actor is not None:
        source = _speaker(clause, is_actor) or source
    if named_actor is not None and is_actor is not None:
        # "Clashes between [M23 rebels] and [the army] broke out", "An air strike by [the
        # military] hit ...": an act named by a noun, with its actors in its own complement.
        for act in (source, verb if verb.pos_ == "NOUN" and source is None else None):
            if act is None or act.pos_ != "NOUN" or named_actor(act):
                continue
            first, second = complement_actors(act, is_actor)
            if first is not None:
                source = first
                if second is not None and (target is None or not is_actor(target)):
                    target = second
                break
    if is_actor is not None and (target is None or not is_actor(target)):
        target = _actor_object(verb, is_actor, dative) or target
    if target is None:
        target = _object(verb, dative)
    if is_actor is not None and source is not None and (target is None or not is_actor(target)):
        partner = next((c for c in source.children if c.dep_ == "conj" and is_actor(c)), None)
        if partner is None:
            source, partner = _listed_pair(source, is_actor if listed_any else None)
        if partner is None:
            partner = _delegations_partner(source)
        if partner is not None:
            target = partner
    elif listed_first and is_actor is not None and source is not None and target is not None \
            and target.ent_type_ in ("PERSON", "ORG", "GPE", "NORP"):
        # "Qatar, Egypt mediators deliver a proposal to [Hamas]": the list is a joint subject,
        # named first by its first name (as "Qatar and Egypt ..." is by "Qatar").
        first, partner = _listed_pair(source, is_actor if listed_any else None)
        if partner is not None and first.i < partner.i:
            source = first
    if is_actor is not None and (target is None or not is_actor(target)):
        target = _actor_inside_object(verb, is_actor) or target
    if is_actor is not None and source is not None and target is None and verb.pos_ == "NOUN":
        # "ordered the arrest of [the minister]": the object of an action noun (only once its
        # source is known; "the visit of X" names the source when nothing else does)
        target = next((p for c in verb.children if c.dep_ == "prep" and c.lower_ == "of"
                       for p in c.children if p.dep_ == "pobj" and is_actor(p)), None)
    if source is None and target is None and verb.pos_ not in ("VERB", "AUX"):
        return _linear_arguments(sent, verb)
    if source is not None and source.pos_ in ("NOUN", "PROPN", "PRON"):
        source_span = noun_phrase(source)
        if target is not None and target.dep_ == "conj" and target.head.head.head.i == source.i \
                and target.head.i < target.i:
            # "officials from [India] and the Maldives": the first delegation's phrase, up to its country
            source_span = source.doc[source_span.start:target.head.i + 1]
    else:
        source_span = None
    target_span = noun_phrase(target) if target is not None and target.pos_ in ("NOUN", "PROPN", "PRON") else None
    if source is None and verb.pos_ not in ("VERB", "AUX"):
        source_span = _left_phrase(sent, verb)
    if wide_datelines:
        source_span, target_span = _after_dateline(source_span, wide_datelines), _after_dateline(target_span, wide_datelines)
    return source_span, target_span


def complement_actors(noun, is_actor):
    """(``agent_complement``; release 3.11) the actors a noun that names an act gives in its own
    complement: (A, None) for "a strike [by] A" or "a strike called by A" (only participles of
    ``AGENTIVE_PARTICIPLES``), (A, B) for "clashes [between] A and B"; (None, None) when it
    names none."""
    for child in noun.children:
        if (child.dep_ == "prep" and child.lower_ == "by") or (
                child.dep_ == "acl" and child.tag_ == "VBN" and child.lemma_.lower() in AGENTIVE_PARTICIPLES):
            agents = [child] if child.dep_ == "prep" else [c for c in child.children if c.dep_ == "agent"]
            pobj = next((p for a in agents for p in a.children if p.dep_ == "pobj"), None)
            if pobj is not None and is_actor(pobj):
                return pobj, None
        elif child.dep_ == "prep" and child.lower_ == "between":
            pobj = next((p for p in child.children if p.dep_ == "pobj"), None)
            if pobj is not None and is_actor(pobj):
                other = next((c for c in pobj.children if c.dep_ == "conj" and is_actor(c)), None)
                return pobj, other
    return None, None


def misread_name(tok) -> bool:
    """Whether a token the tagger took for a pronoun is a name ("Houthis", "Tonga"): a
    capitalised word of letters that is no English pronoun."""
    return tok.pos_ == "PRON" and tok.is_alpha and tok.text[:1].isupper() and len(tok) > 1 \
        and tok.lower_ not in PRONOUNS


def _after_dateline(span, wide: bool | int = True):
    """A phrase without the dateline its left edge reaches into ("Dominica - [the Red Cross]",
    "HARARE - [President X]"): the dateline names where the story was filed, not the actor."""
    if span is None:
        return None
    end = dateline_end(span.sent, wide)
    if end is None or not span.start <= end < span.end - 1:
        return span
    start = end + 1
    while start < span.end - 1 and span.doc[start].pos_ in ("DET", "PUNCT"):
        start += 1
    return span.doc[start:span.end]


DASHES = ("—", "–", "-", "--", "(")
LINE_DASHES = ("—", "–", "-", "--")
# The ``wide`` level of release 3.24's ``joined_datelines`` (True, 1, is release 2.6's wide datelines).
JOINED = 2
# Capitals joined inside one token: "PORT-AU-PRINCE", "N'DJAMENA", "SANAA/DUBAI", "COX'S".
# (``acronym_plurals``, 3.25 candidate) an acronym of two capitals or more with a plural "s": "MPs".
ACRONYM_PLURAL = re.compile(r"[A-Z]{2,}s")
JOINED_CAPITALS = re.compile(r"[A-Z]+(?:[-/'’][A-Z]+)+")


def _dateline_word(doc, k: int, start: int, wide: bool | int) -> bool:
    """Whether token ``k`` can be part of a dateline's capitals (see ``dateline_end``)."""
    tok = doc[k]
    if tok.is_upper and tok.is_alpha:
        return True
    glued = k > start and not doc[k - 1].whitespace_
    if wide and tok.text == "-" and glued:
        return True
    if wide is not True and wide >= JOINED:
        # (``joined_datelines``, 3.24) "SANAA/DUBAI (Reuters) -", "NEW DELHI/ISLAMABAD (Reuters) -",
        # "PORT-AU-PRINCE -", "COX'S BAZAR, Bangladesh -": capitals joined by a slash, a hyphen or
        # an apostrophe, however the tokenizer splits them
        if JOINED_CAPITALS.fullmatch(tok.text):
            return True
        if glued and doc[k - 1].is_upper and tok.text in ("/", "'S", "’S", "'", "’"):
            return True
    return False


def dateline_end(sent, wide: bool | int = True) -> int | None:
    """Index of the dash or bracket that closes a wire dateline opening the sentence, or None.

    A dateline is capitals from the sentence start then a dash or a bracket ("NAIROBI —",
    "GUATEMALA CITY —", "LONDON (Reuters) -"); with ``wide`` also capitals, a comma and a short
    tail of names, a day and an agency before a spaced dash ("KHARTOUM, March 4 -", "ROSEAU,
    Dominica -", "SEOUL, March 28 (Reuters) -", "AL-ULA, Saudi Arabia -"); with ``wide`` at
    ``JOINED`` (release 3.24's ``joined_datelines``) also capitals joined by a slash, a hyphen
    inside one token or an apostrophe ("SANAA/DUBAI (Reuters) -", "PORT-AU-PRINCE -", "COX'S
    BAZAR, Bangladesh -")."""
    doc, k = sent.doc, sent.start
    while k < sent.end and _dateline_word(doc, k, sent.start, wide):
        k += 1
    if k == sent.start or k >= sent.end:
        return None
    # at most four tokens of capitals (with joined datelines, four words: "PORT-AU-PRINCE" is five tokens)
    short = k - sent.start <= 4 or (wide is not True and wide >= JOINED
                                    and sum(doc[j].is_alpha for j in range(sent.start, k)) <= 4)
    if doc[k].text in DASHES and short:
        return k
    if not wide or doc[k].text != "," or not short:
        return None
    brackets = 0
    for j in range(k + 1, min(k + 10, sent.end)):
        tok = doc[j]
        if tok.text in LINE_DASHES and doc[j - 1].whitespace_ and not brackets:
            return j if j > k + 1 else None
        if tok.text == "(":
            brackets += 1
        elif tok.text == ")":
            brackets -= 1
        elif not (brackets or tok.is_title or tok.is_upper or tok.like_num or tok.text in (",", ".")):
            return None
    return None


def is_dateline(tok, wide: bool = True) -> bool:
    """Whether a token is part of a wire dateline opening its sentence (see ``dateline_end``)."""
    if tok.i - tok.sent.start > (9 if wide else 3):
        return False
    end = dateline_end(tok.sent, wide)
    return end is not None and tok.i < end


def shares_subject(clause) -> bool:
    """Whether an adverbial clause without a subject of its own is done by its head's subject:
    the participle of "Gunmen stormed the base, killing four" (also "after detonating ..."); a
    finite "as"/"while" clause names its own subject."""
    return clause.tag_ == "VBG" and clause.head.pos_ in ("VERB", "AUX")


def glued_verb_arguments(verb, is_actor, prep_target: bool = True, conj_source: bool = False,
                         infinitive: bool = False):
    """(source, target) around a headline verb the parser took for a noun inside one long
    compound ("Tajik police [detain] lawyer", "Kazakhstan and China [sign] deal"): the words
    before the verb are the source (the second of two joined names is the target), the words
    after it up to the compound's head the target. None when the words before name no actor
    or when the sentence's root is a verb (the parse found the real verb elsewhere). With
    ``prep_target``, words after the verb that name no actor are the instrument, not the target,
    when a prepositional phrase on the compound names one ("Police fire tear gas at
    [protesters]", "Troops launch raid on [rebel camps]"). With ``conj_source`` (release 2.7), a
    compound the parser hung as the second conjunct of a name before it ("[Baku] and Yerevan
    trade accusations": "Baku" the root, "accusations" its conjunct) has that name as source and
    the words before the verb as its partner. With ``infinitive`` (measured in 2.7, off), a root verb in
    the infinitive is no verb of the sentence's own ("Japanese court [orders] state [to
    compensate] plaintiffs": the compound is the infinitive's subject): the glued verb acts and
    the compound's head is its target."""
    root = verb.sent.root
    to_root = infinitive and root.pos_ == "VERB" and verb.head.dep_ == "nsubj" and verb.head.head.i == root.i \
        and any(c.dep_ == "aux" and c.lower_ == "to" for c in root.children)
    if verb.dep_ != "compound" or verb.head.i <= verb.i or (root.pos_ in ("VERB", "AUX") and not to_root):
        return None   # a sentence with a verb of its own: "EU budget [support] tranche" is a noun
    doc, top = verb.doc, verb.head
    while top.dep_ == "compound" and top.head.i > top.i:
        top = top.head
    start = top.left_edge.i
    while start < verb.i and doc[start].pos_ in ("DET", "PUNCT"):
        start += 1
    left = doc[start:verb.i]
    if not len(left) or not any(t.pos_ in ("NOUN", "PROPN") and is_actor(t) for t in left):
        return None
    target = doc[verb.i + 1:top.i + 1]
    if conj_source and top.dep_ == "conj" and top.head.i < start and top.head.pos_ in ("NOUN", "PROPN") \
            and is_actor(top.head) and any(c.dep_ == "cc" and top.head.i < c.i < start for c in top.head.children):
        first = noun_phrase(top.head)
        return doc[first.start:min(first.end, start - 1)], (target if any(is_actor(t) for t in target) else left)
    joint = next((t for t in left if t.dep_ == "cc"), None)
    if joint is not None and joint.i > start and joint.i + 1 < verb.i:
        source, partner = doc[start:joint.i], doc[joint.i + 1:verb.i]
        if not any(is_actor(t) for t in target):
            target = partner
        return source, target
    # The compound's head counts as an actor only by its own word: "police fire rubber [bullets]"
    # is an actor to ``is_actor`` through its modifier "police", which is the source.
    named = [t for t in target if t.i != top.i or t.ent_type_ or not any(m.i < verb.i for m in top.lefts)]
    if prep_target and not any(is_actor(t) for t in named):
        aimed = next((p for c in top.children if c.dep_ == "prep" and c.lower_ in TARGET_PREPS
                      for p in c.children if p.dep_ == "pobj" and is_actor(p) and p.ent_type_ not in PLACE_LABELS),
                     None)
        if aimed is not None:
            return left, noun_phrase(aimed)
    return left, (target if len(target) else None)


def _compound_subject(verb, is_actor):
    """The subject of a headline verb that the parser hung on the verb as a compound ("Houthi
    missile attack targets ship": "attack" is a compound of "targets"): a noun phrase to the
    verb's left, when the verb has no subject of its own."""
    if verb.pos_ != "VERB" or verb.dep_ not in ("ROOT", "ccomp", "conj") \
            or any(c.dep_ in SUBJECTS + ("nsubjpass",) for c in verb.children):
        return None
    noun = next((c for c in verb.lefts if c.dep_ == "compound" and c.pos_ in ("NOUN", "PROPN")), None)
    if noun is None:
        return None
    if is_actor(noun):
        return noun
    # "Houthi missile attack": the actor named in the event noun's own modifiers
    return next((m for m in noun.lefts if m.dep_ in ("compound", "amod", "poss")
                 and m.ent_type_ in ("PERSON", "ORG", "GPE", "NORP") and is_actor(m)), None)


def _when_clause_subject(verb, is_actor):
    """The attacker of a passive event told from its victims: "Five policemen were killed
    [when gunmen opened fire]", "... were injured as youths threw petrol bombs": the subject
    of the "when"/"as" clause of a passive verb without a "by" agent (a pronoun there usually
    names the victims, so only a noun counts)."""
    if not any(c.dep_ == "nsubjpass" for c in verb.children) or any(c.dep_ == "agent" for c in verb.children):
        return None
    for clause in verb.children:
        if clause.dep_ != "advcl" or clause.pos_ != "VERB":
            continue
        if not any(c.dep_ in ("advmod", "mark") and c.lower_ in ("when", "as") for c in clause.children):
            continue
        subject = next((c for c in clause.children if c.dep_ == "nsubj"), None)
        if subject is not None and subject.pos_ in ("NOUN", "PROPN") and is_actor(subject):
            return subject
    return None


def _delegations_partner(subject):
    """The second party of joint delegations ("Senior officials from India and [the Maldives]
    held talks", "Border forces from Pakistan and [Afghanistan] traded fire"): an unnamed agent
    with a "from" complement naming two joined actors acts with the second as its partner."""
    if subject.ent_type_:
        return None
    for prep in subject.children:
        if prep.dep_ == "prep" and prep.lower_ == "from":
            for first in prep.children:
                if first.dep_ == "pobj" and first.ent_type_ in ("GPE", "ORG", "NORP", "PERSON"):
                    return next((c for c in first.children if c.dep_ == "conj"
                                 and (c.ent_type_ in ("GPE", "ORG", "NORP", "PERSON") or c.pos_ == "PROPN")), None)
    return None


def _listed_pair(subject, is_actor=None):
    """(source, partner) of a headline's comma list of actors ("Ghana, Burkina Faso agree to
    ...", "Mali, Niger sign pact"), else (subject, None). The parser hangs the second name on
    the first as an apposition, or the first on the verb as a bare noun modifier (npadvmod);
    a true apposition is closed by a comma ("Kenya's president, William Ruto, said"), a list
    in a headline runs straight into the verb. Only named actors (entities) count; with
    ``is_actor`` (release 2.6) any actor does ("Yemen government, Houthis swap ..."), the first
    name may also hang on the verb as "dep" or "advcl" ("Modi, Xi agree ...") and the comma may
    belong to the first name's phrase ("Mongolia, Russia sign ...": two subjects)."""
    doc, names = subject.doc, ("PERSON", "ORG", "GPE", "NORP")
    deps = ("npadvmod", "nsubj") + (("dep", "advcl") if is_actor is not None else ())

    def named(tok):
        return tok.ent_type_ in names or (is_actor is not None and tok.pos_ in ("NOUN", "PROPN") and is_actor(tok))

    def last_word(tok):
        end = tok.right_edge.i
        while is_actor is not None and end > tok.i and doc[end].is_punct:
            end -= 1
        return end
    for c in subject.children:
        if c.dep_ == "appos" and c.i > subject.i and c.ent_type_ in names \
                and doc[c.left_edge.i - 1].text == "," and c.right_edge.i + 1 == subject.head.i:
            return subject, c
    if named(subject):
        for c in subject.head.children:
            if c.dep_ not in deps or not named(c) or c.i == subject.i:
                continue
            first, second = (c, subject) if c.i < subject.i else (subject, c)
            if last_word(first) + 2 == second.left_edge.i and doc[last_word(first) + 1].text == "," \
                    and second.right_edge.i + 1 == subject.head.i:
                return first, second
    return subject, None


def demanded_party(verb, is_actor, is_request):
    """The one a protest or strike makes its demand of: "farmers marched to demand [that the
    government] raise prices", "..., demanding that [the Centre] lift export duties": the
    subject of the "that" clause of a demand verb attached to the event verb (``is_request``
    says whether a token is a verb of request)."""
    for clause in verb.children:
        if clause.dep_ not in ("advcl", "xcomp", "conj") or not is_request(clause):
            continue
        for comp in clause.children:
            if comp.dep_ != "ccomp":
                continue
            subject = next((c for c in comp.children if c.dep_ == "nsubj"), None)
            if subject is not None and subject.pos_ in ("NOUN", "PROPN") and is_actor(subject):
                return noun_phrase(subject)
    return None


# (``titled_people``) determiners of a phrase that means someone other than a person already named
INDEFINITE = frozenset({"a", "an", "another", "some", "any", "one"})


# Prepositions whose object is where or when an event happens, not who it happens to.
PLACE_TIME_PREPS = frozenset({"in", "at", "near", "during", "since", "after", "before", "off", "within",
                              "across", "around", "throughout", "until", "inside", "outside", "amid"})


def names_actor(span, is_actor) -> bool:
    """Whether a phrase names an actor: its head is an actor word or any of its nouns is one
    ("12 years", "water cannon" name none; "new Uganda loans" does, by its modifier)."""
    return any(t.pos_ in ("NOUN", "PROPN", "PRON") and is_actor(t) for t in span)


def named_party(verb, source_span, is_actor, wide: bool = True):
    """(``named_target``, ``empty_target``; release 3.1) the first actor the verb's clause names
    after the verb, outside the source phrase: the party an event is done to when the target
    the parse found names none ("Police fire [water cannon] as Georgians protest": Georgians).
    Heads only (a modifier's noun stands for it), never the object of a preposition of place or
    time ("in Beirut", "after midnight"), a dateline or a bare pronoun."""
    taken = set(range(source_span.start, source_span.end)) if source_span is not None else set()
    for tok in verb.subtree:
        if tok.i <= verb.i or tok.i in taken or tok.pos_ not in ("NOUN", "PROPN"):
            continue
        if tok.dep_ in ("compound", "amod", "poss") or is_dateline(tok, wide) or not is_actor(tok):
            continue
        if tok.dep_ == "pobj" and tok.head.lower_ in PLACE_TIME_PREPS:
            continue
        return noun_phrase(tok)
    return None


def acting_party(verb, target_span, is_actor, wide: bool = True):
    """(``empty_source``; release 3.1) the nearest actor named before the verb in its sentence,
    outside the target phrase: the one acting when the parse found no subject, or only a
    pronoun no one stands for ("[Rebels] say they shot down ...", "Federal [court] orders ..."
    parsed as a noun compound). Heads (or a compound whose head is no actor), never the object
    of a preposition of place or time, a dateline or a true pronoun."""
    if verb.tag_ == "VBN" or verb.dep_ in ("acl", "relcl", "amod"):
        return None   # "Two soldiers [wounded] in clash": the noun before a participle is acted on
    taken = set(range(target_span.start, target_span.end)) if target_span is not None else set()
    for tok in reversed(verb.doc[verb.sent.start:verb.i]):
        if tok.i in taken or tok.pos_ not in ("NOUN", "PROPN", "PRON") or tok.dep_ in ("amod", "poss"):
            continue
        if tok.dep_ == "compound" and is_actor(tok.head):
            continue   # the head noun it modifies stands for it
        if is_dateline(tok, wide) or not (is_actor(tok) or misread_name(tok)):
            continue
        if tok.dep_ == "pobj" and tok.head.lower_ in PLACE_TIME_PREPS:
            continue
        return noun_phrase(tok)
    return None


def _past_dateline(subject, wide: bool = True):
    """The subject itself, or for a dateline the parse took as subject ("NAIROBI — Kenya and
    Tanzania signed ...") the real subject hung on it as an apposition (None when there is none).
    A dateline with a comma hangs it deeper ("KHARTOUM, March 4 - [Sudan's army] said": an
    apposition of "KHARTOUM"; "CEBU CITY, Philippines - [a former mayor] was detained": of
    "Philippines", the parse's second subject), so with ``wide`` the first apposition after the
    dateline among the subject's and its fellow subjects' words is taken."""
    if not is_dateline(subject, wide):
        return subject
    if not wide:
        return next((c for c in subject.children if c.dep_ == "appos"), None)
    end = dateline_end(subject.sent, wide)
    heads = [subject] + [c for c in subject.head.children if c.dep_ == subject.dep_ and c.i < end]
    return next((t for h in heads for t in h.subtree if t.dep_ == "appos" and t.i > end), None)


def _speaker(clause, is_actor):
    """The actor a subject pronoun of a reported clause stands for: "Sudan's army says [it]
    shelled ...", "Iran said [they] would retaliate": the reporting verb's own subject, when it
    names an actor and is not itself a pronoun."""
    if clause.dep_ not in ("ccomp", "xcomp") or clause.head.lemma_.lower() not in REPORTING | SPEECH:
        return None
    verb = clause.head
    for _ in range(2):  # "The president named a cabinet and said he would ...": the conjunct's subject
        subject = next((c for c in verb.children if c.dep_ in SUBJECTS), None)
        if subject is not None or verb.dep_ != "conj":
            break
        verb = verb.head
    return subject if subject is not None and subject.pos_ != "PRON" and is_actor(subject) else None


def reporting_speaker(sent, verb, is_actor):
    """The subject of the sentence's reporting verb ("..., pro-hunt MPs say", "A barrister ...
    says the system is unfair"), or None: for a verbal event (a criticism, a demand, a refusal)
    whose own clause names no source, what the speaker says is the act."""
    for tok in sent:
        if tok.pos_ != "VERB" or tok.lemma_.lower() not in REPORTING | SPEECH or tok.i == verb.i:
            continue
        subject = next((c for c in tok.children if c.dep_ in SUBJECTS), None)
        if subject is not None and subject.i not in {t.i for t in verb.subtree} and is_actor(subject):
            return noun_phrase(subject)
    return None


def governing_speaker(sent, verb, is_actor):
    """(``speaker_nonactor``, ``speaker_empty``; measured in 3.32, not kept) the subject of the reporting
    verb that governs the event verb: the nearest one among its heads ("The army said [rebels
    attacked] ...") or hung on it ("[Air strikes hit] hideouts, the air force says", parsed with
    "says" under "hit"); else that of the sentence's only reporting verb. None when the subject
    is no actor, lies inside the event verb's clause, or the sentence has several reporting verbs
    and none governs the event verb."""
    clause = {t.i for t in verb.subtree}

    def subject_of(tok):
        subject = next((c for c in tok.children if c.dep_ in SUBJECTS), None)
        # a subject of the event's own clause is its agent or patient, not a speaker
        inside = subject is not None and subject.i in clause and tok.i not in clause
        return noun_phrase(subject) if subject is not None and not inside and is_actor(subject) else None

    def reporting(tok):
        return tok.pos_ == "VERB" and tok.lemma_.lower() in REPORTING | SPEECH and tok.i != verb.i

    for tok in verb.ancestors:
        if reporting(tok):
            return subject_of(tok)
    hung = [c for c in verb.children if reporting(c)]
    if hung:
        return subject_of(hung[0])
    others = [t for t in sent if reporting(t)]
    return subject_of(others[0]) if len(others) == 1 else None


def _actor_inside_object(verb, is_actor):
    """A named actor deeper inside the verb's object: "India signed a deal to import gas from
    [Iran]", "Ministers backed plans for talks with [the rebels]". Only entities count (an agent
    word that deep is often a by-stander), and only the object's own complements, not a side clause."""
    for child in verb.children:
        if child.dep_ not in ("dobj", "attr", "nsubjpass"):
            continue
        for tok in child.subtree:
            if tok.i == child.i or tok.pos_ not in ("PROPN", "NOUN") or tok.ent_type_ not in ("PERSON", "ORG", "GPE", "NORP"):
                continue
            path, cur = [], tok
            while cur.i != child.i and len(path) < 6:
                path.append(cur.dep_)
                cur = cur.head
            place = tok.ent_type_ in PLACE_LABELS and tok.head.lower_ in PLACE_PREPS and tok.head.lower_ != "from"
            if cur.i == child.i and not any(d in ("relcl", "advcl", "parataxis", "appos", "conj") for d in path) \
                    and tok.dep_ != "compound" and not place and is_actor(tok):
                return tok
    return None


def _governing_arguments(verb, target, is_actor, wide_datelines: bool = True):
    """(source, target) from the clause that governs an event word without a subject of its
    own: "[Judges] issued a warrant", "[Hungary] declared a halt to attacks", "Pakistan was
    elected to a seat by [the General Assembly]". The climb stops at reporting verbs (the
    speaker is not the actor) and at relative clauses (their head noun is not their subject).
    """
    cur = verb
    for _ in range(3):
        if cur.dep_ in ("relcl", "acl", "ccomp", "ROOT") or cur.head is cur:
            break
        cur = cur.head
        if cur.pos_ not in ("VERB", "AUX"):
            continue
        if cur.lemma_.lower() in REPORTING:
            break
        source = next((c for c in (_past_dateline(c, wide_datelines) for c in cur.children if c.dep_ in SUBJECTS)
                       if c is not None and is_actor(c)), None)
        agent = next((p for c in cur.children if c.dep_ == "agent" for p in c.children if p.dep_ == "pobj"), None)
        passive = next((c for c in cur.children if c.dep_ == "nsubjpass" and is_actor(c)), None)
        if agent is not None and is_actor(agent):
            source = agent
        if source is not None:
            return source, target if target is not None else passive
    return None, target


def _actor_object(verb, is_actor, dative: bool = True):
    """The first actor among the verb's objects and their complements, or None (``dative``: a
    "to" labelled as the verb's dative counts as a target preposition)."""
    preps = ("prep", "dative") if dative else ("prep",)
    candidates = []
    for child in verb.children:
        if child.dep_ in ("dobj", "dative", "attr", "nsubjpass"):
            candidates.append(child)
            candidates.extend(g for g in child.children if g.dep_ == "poss")
    for child in verb.children:
        if child.dep_ in preps and child.lower_ in TARGET_PREPS:
            for c in child.children:
                if c.dep_ == "pobj" and not (child.lower_ in ("at", "from", "on") and c.ent_type_ in PLACE_LABELS):
                    candidates.append(c)
                    # "to protest against [President Milei]'s freeze": whose act it is aimed at
                    candidates.extend(_possessors(c))
    for noun in list(candidates):
        for prep in noun.children:
            if prep.dep_ == "prep" and prep.lower_ in TARGET_PREPS + ("of",):
                candidates.extend(c for c in prep.children if c.dep_ == "pobj")
    for noun in candidates:
        if noun.pos_ in ("NOUN", "PROPN") and is_actor(noun) and noun.ent_type_ not in ("DATE", "TIME"):
            return noun
    return None


def _possessors(noun):
    """The possessor of a noun ("the government's plan"), as a candidate actor."""
    return [g for g in noun.children if g.dep_ == "poss" and g.pos_ in ("NOUN", "PROPN")]


def _object(verb, dative: bool = True):
    preps = ("prep", "dative") if dative else ("prep",)
    for child in verb.children:
        if child.dep_ in ("dobj", "dative", "attr") and child.pos_ in ("NOUN", "PROPN", "PRON"):
            return child
    for prep_lemma in TARGET_PREPS:
        for child in verb.children:
            if child.dep_ in preps and child.lower_ == prep_lemma:
                pobj = [c for c in child.children if c.dep_ == "pobj"]
                if pobj and pobj[0].pos_ in ("NOUN", "PROPN", "PRON"):
                    if prep_lemma in ("at", "from", "on") and pobj[0].ent_type_ in PLACE_LABELS | {"DATE"}:
                        continue
                    return pobj[0]
    return None


def _linear_arguments(sent, verb):
    """Headline fallback when the parse misses the verb: phrase before it, entity after it."""
    source = _left_phrase(sent, verb)
    target = None
    for ent in sent.ents:
        if ent.start > verb.i and ent.label_ in ACTOR_LABELS:
            target = ent
            break
    return source, target


def _left_phrase(sent, verb):
    for ent in reversed(list(sent.ents)):
        if ent.end <= verb.i and ent.label_ in ACTOR_LABELS:
            start = ent.start
            while start > sent.start and sent.doc[start - 1].pos_ in ("PROPN", "ADJ", "NOUN") \
                    and sent.doc[start - 1].ent_type_ != "DATE":
                start -= 1
            return sent.doc[start:ent.end]
    return None


def noun_phrase(head):
    """The actor phrase around a noun: left modifiers, 'of' complement, the whole entity."""
    doc = head.doc
    start, end = head.left_edge.i, head.i + 1
    for child in head.rights:
        if child.dep_ == "prep" and child.lower_ == "of":
            end = max(end, child.right_edge.i + 1)
        elif child.dep_ in ("compound", "flat", "appos") and child.i == end:
            end = child.i + 1
    if head.ent_iob_ in ("B", "I"):
        for ent in doc.ents:
            if ent.start <= head.i < ent.end:
                start, end = min(start, ent.start), max(end, ent.end)
    name = _apposed_name(head, end)
    if name is not None:
        end = name.end
    while start < end - 1 and doc[start].pos_ in ("DET", "PUNCT", "CCONJ"):
        start += 1
    return doc[start:end]


def _apposed_name(head, end):
    """The person's name set off by commas after a described actor ("the leader of Guinea's
    opposition party, [Mamadou Kaba Sylla], was detained"): the same actor, named. Only a
    PERSON entity right after the comma that closes the phrase, and only for a head that is
    not itself a name."""
    doc = head.doc
    if head.ent_type_ in ("PERSON", "GPE", "ORG", "NORP") or end >= len(doc) - 1 or doc[end].text != ",":
        return None
    first = doc[end + 1]
    if first.ent_iob_ != "B" or first.ent_type_ != "PERSON":
        return None
    if not any(c.dep_ == "appos" and first.i <= c.i for c in head.subtree if c.i >= end):
        return None
    return next((ent for ent in doc.ents if ent.start == first.i), None)


# An organisation named "<international word> ... <institution word>" is an international body
# ("African Union", "European Court of Human Rights", "World Food Programme", "UN refugee
# agency") when the actor dictionary does not know it. NGOs named that way ("International
# Rescue Committee") come out as IGO: still international, not the country of the story.
INTERNATIONAL_FIRST = frozenset({"international", "world", "un", "u.n.", "united", "european", "african",
                                 "inter-american", "pan-african", "arab", "asian", "islamic", "eu"})
INSTITUTION_LAST = frozenset({"court", "union", "commission", "parliament", "council", "bank", "organisation",
                              "organization", "agency", "fund", "programme", "program", "league", "tribunal",
                              "office", "assembly", "committee", "mission", "body", "authority", "community",
                              "nations", "conference", "cooperation", "rights"})


def international_body(name: str) -> bool:
    words = name.lower().replace("'s", "").split()
    if words and words[0] == "the":
        words = words[1:]
    return len(words) >= 2 and words[0] in INTERNATIONAL_FIRST and words[-1] in INSTITUTION_LAST


def _name_key(name: str) -> str:
    """A person's name as the actor dictionary keys it: lower case, no possessive, hyphens as spaces."""
    name = name.replace("’s", "").replace("'s", "")
    return " ".join(name.lower().replace("-", " ").split())


# The kind word a subdivision's name may carry in the text ("Rakhine State", "Sindh province").
SUBDIVISION_WORDS = frozenset({"state", "province", "region", "department", "district", "governorate",
                               "county", "prefecture", "division"})
# (``org_demonym``) how nationality words end ("Philippine", "Maldivian", "Surinamese")
DEMONYM_ENDINGS = ("an", "ese", "ine", "ish", "i")


def fold_accents(text: str) -> str:
    """A name with its diacritics dropped ("luiz inácio" -> "luiz inacio"): the Phoenix
    dictionary spells names in plain ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# A wire dateline opening a body: up to four capitalised words (the place), then an optional
# ", Country" / ", March 4" tail and an agency in brackets, closed by a dash or a colon
# ("SANTO DOMINGO –", "Hanoi (VNA) –", "SEOUL, Jan. 14 (Yonhap) --", "BEIJING:").
_DATELINE = re.compile(r"^\s*((?:[^\W\d_][\w'’.]*)(?:[ -][^\W\d_][\w'’.]*){0,3})"
                       r"(?:,[^,—–\n]{1,30})?(?:\s*\([^)]{1,30}\))?\s*(?:[—–:]|--?\s)")


def dateline_country(text: str) -> str | None:
    """The country of the place a wire dateline opens ``text`` with, or None: only a place (a
    city, capital or country of the country table), never a name that opens a sentence."""
    match = _DATELINE.match(text)
    if match is None:
        return None
    place = match.group(1)
    if not all(w[:1].isupper() for w in place.replace("-", " ").split()):
        return None
    return country_for(place, "GPE")


def _strip_det(text: str) -> str:
    return text[4:] if text.lower().startswith("the ") else text


def _overlapping(ents: list[dict], start: int, end: int) -> list[dict]:
    return [e for e in ents if e["start_char"] < end and e["end_char"] > start]


class ActorResolver:
    """Turns argument spans into Actor dicts and finds the event's place and day."""

    def __init__(self, tables: ActorTables, wide_datelines: bool = True, pronoun_names: bool = True):
        self.tables = tables
        self.wide_datelines = wide_datelines   # datelines with a comma ("ROSEAU, Dominica -") name no actor
        self.pronoun_names = pronoun_names     # a capitalised "pronoun" that is none is a name (``misread_name``)
        # Release 2.8 switches (``CoderConfig`` fields of the same names, copied by ``configure``).
        self.own_country = False
        self.introduced_country = False
        self.surname_dated = False
        self.surname_country = False
        self.surname_link = False
        # Release 2.9 switches
        self.dateline_home = False
        self.dateline_default = False
        self.folded_names = False
        self.expanded_names = False
        self.unmarked_home = False
        self.subdivisions = False
        self.introduced_body = False
        # Release 3.0 candidates
        self.cased_places = False
        self.mistagged_home = False
        self.igo_office = False
        self.demonym_stems = False
        self.mistagged_default = False
        self.acronym_norp = False
        # Release 3.1 candidates
        self.pronoun_home = False
        # Release 3.19 candidate
        self.shared_names = False
        # Release 3.21 (on in the shipped coder)
        self.corpus_agents = False
        # Release 3.22 (on in the shipped coder)
        self.learned_nouns = False
        self.norp_home = False
        self.contained_names = False
        self.org_subdivision = False
        # Release 3.25 candidate
        self.acronym_plurals = False
        # Release 3.27 (on in the shipped coder)
        self.corpus_people = False
        # Release 3.31 (inner_names, unknown_places and org_demonym on in the shipped coder)
        self.own_conjunct = False
        self.inner_names = False
        self.descriptor_places = False
        self.unknown_places = False
        self.org_demonym = False
        # Release 3.32 candidate (measured, not kept)
        self.titled_people = False
        self._dictionary_agents = tables.agents
        self._prefixes: dict[str, set[str]] | None = None
        self._shared: dict[str, frozenset[str]] | None = None
        self._surnames: dict[str, list[str]] | None = None
        self._max_agent_words = max((k.count(" ") + 1 for k in tables.agents), default=1)
        self._codes = set(tables.countries.values()) | {"IGO", "NGO", "MNC"}

    def configure(self, config) -> None:
        """Take the resolver's switches from a ``CoderConfig``."""
        for name in ("wide_datelines", "pronoun_names", "own_country", "introduced_country",
                     "surname_dated", "surname_country", "surname_link", "dateline_home", "dateline_default",
                     "folded_names", "expanded_names", "unmarked_home", "subdivisions", "introduced_body",
                     "cased_places", "mistagged_home", "igo_office", "demonym_stems", "mistagged_default",
                     "acronym_norp", "pronoun_home", "shared_names", "corpus_agents", "learned_nouns",
                     "norp_home", "contained_names", "org_subdivision"):
            setattr(self, name, getattr(config, name))
        self.acronym_plurals = getattr(config, "acronym_plurals", False)
        self.corpus_people = getattr(config, "corpus_people", False)
        for name in ("own_conjunct", "inner_names", "descriptor_places", "unknown_places", "org_demonym",
                     "titled_people"):
            setattr(self, name, getattr(config, name, False))
        if self.wide_datelines and getattr(config, "joined_datelines", False):
            self.wide_datelines = JOINED   # (3.24) datelines of joined capitals too (``dateline_end``)
        # (``corpus_agents``, 3.21) the dictionaries' agent words plus those the corpus teaches;
        # a dictionary entry wins. With ``learned_nouns`` (3.22) the learned words stay out of the
        # table and name actors only as nouns (``_learned``): "national" of "a Chinese national",
        # not of "national elections".
        merged = self.corpus_agents and not self.learned_nouns
        agents = {**self.tables.corpus_agents, **self._dictionary_agents} if merged else self._dictionary_agents
        if agents is not self.tables.agents:
            self.tables = replace(self.tables, agents=agents)
        self._max_agent_words = max((k.count(" ") + 1 for k in agents), default=1)

    def _learned(self, tok) -> str | None:
        """(``corpus_agents`` with ``learned_nouns``) the sector of a common noun the corpus taught."""
        if self.corpus_agents and self.learned_nouns and tok.pos_ == "NOUN":
            return self.tables.corpus_agents.get(tok.lemma_.lower()) or self.tables.corpus_agents.get(tok.lower_)
        return None

    def _acronym_plural(self, tok) -> str | None:
        """(``acronym_plurals``, 3.25 candidate) the sector of the plural of an agent acronym
        ("MPs": an agent word's capitals with a plural "s", which the tagger reads as a singular
        noun and the lemmatizer keeps whole), from the acronym's own entry. The plural "s" must be
        lower-case: an all-capitals headline's "MPS" is left as it was."""
        if self.acronym_plurals and ACRONYM_PLURAL.fullmatch(tok.text):
            return self.tables.agents.get(tok.text[:-1].lower())
        return None

    def _person_rules(self) -> bool:
        return self.own_country or self.introduced_country or self.surname_dated or self.surname_country \
            or self.corpus_people

    def new_context(self, entities: list[dict], published_at: datetime | None, docs=()) -> ArticleContext:
        """Fresh per-article state; ``docs`` (field, parsed doc) let ``introduced_country`` read
        how the article introduces its people."""
        context = ArticleContext(published_at=published_at, entities=entities)
        if self.demonym_stems:
            for ent in entities:
                if ent.get("label") in ("NORP", "GPE") and not ent.get("country") \
                        and not (self.subdivisions and self._subdivision(ent)):   # "Rivers" (state) stays the table's
                    code = self._demonym(ent.get("text") or "")
                    if code:
                        ent["country"] = code
        if self.shared_names:
            self._follow_full_names(entities)
        if self.org_subdivision:
            for ent in entities:
                if ent.get("label") == "ORG" and not ent.get("country"):
                    ent["country"] = self._leading_subdivision(ent.get("text") or "")
        if self.org_demonym:
            for ent in entities:
                if ent.get("label") == "ORG" and not ent.get("country"):
                    ent["country"] = self._leading_demonym(ent.get("text") or "")
        if self.contained_names:
            self._name_endings(entities)
        if self.subdivisions or self.demonym_stems or self.mistagged_home or self.shared_names \
                or self.org_subdivision or self.contained_names or self.org_demonym:
            context.rank_countries(self._ranked_place, ("PERSON",) if self.mistagged_home else ())
        if self.mistagged_default and not self.mistagged_home and context.default_country is None:
            # only an article that names no country otherwise: a mistagged place fills the gap
            context.rank_countries(self._mistagged_country, ("PERSON",))
        if self.igo_office:
            context.offices = self._offices(entities, docs)
        if self.introduced_country:
            context.introduced = self._introductions(entities, docs)
        if self.titled_people:
            context.titled = self._titles(entities, docs)
        if self.dateline_home or self.dateline_default:
            body = next((doc for name, doc in docs if name == "body" and doc is not None), None)
            context.dateline_country = dateline_country(body.text) if body is not None else None
            if context.dateline_country and (self.dateline_home or context.default_country is None):
                context.default_country = context.dateline_country
        return context

    def shared_short_names(self) -> dict[str, frozenset[str]]:
        """(``shared_names``, 3.19) each short name of the country table that two states share ->
        those states: K, read by the table as state A, when another state's formal name "...
        republic ... of [the] K" extends a formal name of A ("democratic republic of the congo",
        COD, extends "republic of the congo", COG: "congo" is shared). A name whose longer form
        belongs to A itself is not ("republic of china", TWN, extends no name of CHN; CHN's
        "people republic of china" extends it): in this table only "congo" is shared."""
        if self._shared is None:
            table, shared = self.tables.countries, {}
            for key, code in table.items():
                m = SHARED_NAME_RE.search(key)
                short = m.group(1) if m else None
                if not short or "republic" not in key.split() or table.get(short) in (None, code):
                    continue
                words = key.split()
                if any(table.get(" ".join(words[i:])) == table[short] and "republic" in words[i:]
                       for i in range(1, len(words))):
                    shared.setdefault(short, {table[short]}).add(code)
            self._shared = {k: frozenset(v) for k, v in shared.items()}
        return self._shared

    @staticmethod
    def full_name_state(entities: list[dict], short: str, codes) -> str | None:
        """(``shared_names``) the one state of ``codes`` the entities name by a longer name that
        holds the short name ("Democratic Republic of Congo" for "congo"); None when none or
        both are named. Persons are no names of states."""
        named = {e["country"] for e in entities if e.get("label") != "PERSON" and e.get("country") in codes
                 and (key := normalize_name(e.get("text") or "")) != short and short in key.split()}
        return next(iter(named)) if len(named) == 1 else None

    def _follow_full_names(self, entities: list[dict]) -> None:
        """(``shared_names``) an entity the table reads by a shared short name ("Congo", and a
        word beginning with its first five letters: "Congolese") takes the other state when the
        article names exactly one of the sharing states by a longer name that holds the short
        one ("Democratic Republic of Congo", "DR Congo"); both named, or none: it stays. Changes
        the dicts given: ``EventCoder.code`` passes copies, not the article's entity records."""
        for short, codes in self.shared_short_names().items():
            state = self.full_name_state(entities, short, codes)
            if state is None or state == self.tables.countries[short]:
                continue
            for e in entities:
                if e.get("label") != "PERSON" and e.get("country") == self.tables.countries[short] \
                        and any(word.startswith(short[:5]) for word in normalize_name(e.get("text") or "").split()):
                    e["country"] = state

    def _leading_subdivision(self, name: str) -> str | None:
        """(``org_subdivision``, 3.22) the country of the subdivision an organisation's name begins
        with, its words capitalised, when an agent word of the dictionaries follows it (after a
        word such as "State"): "Haryana Police", "Zamfara Police Command", "Delta State
        Government". The longest of the first three words' prefixes the subdivision table knows;
        None otherwise. Round 2 (the review): without the agent word, names that begin with a
        common word the table holds as a subdivision ("North", "Coast", "Delta") took its country
        ("North Atlantic Treaty Organization", "Coast Guard", "Delta Air Lines")."""
        words = name.replace("’s", "").replace("'s", "").split()
        agents = self._dictionary_agents
        for n in (3, 2, 1):
            if len(words) > n and all(w[:1].isupper() for w in words[:n]):
                code = self.tables.subdivisions.get(normalize_name(" ".join(words[:n])))
                rest = [normalize_name(w) for w in words[n:]]
                if rest and rest[0] in SUBDIVISION_WORDS:
                    rest = rest[1:]
                if code and rest and agents.get(rest[0]):
                    return code
        return None

    def _leading_demonym(self, name: str) -> str | None:
        """(``org_demonym``, 3.31) the country an organisation's first word names when
        it is a nationality word the country table lacks: capitalised, ending as one does ("-an",
        "-ese", "-ine", "-ish", "-i"), sharing its longest prefix (five letters or more) with the
        names of one country only among the gazetteer's countries (not its cities: "Marine" is no
        word of Maringá), and not a word of a stem the table already has a nationality word for
        ("Roman" beside "Romanian", "Libertarian" beside "Liberian"): "Philippine Coast Guard"."""
        words = name.split()
        word = words[0] if len(words) >= 2 else ""
        key = normalize_name(word)
        if not (word[:1].isupper() and key.isalpha() and len(key) >= 5 and key.endswith(DEMONYM_ENDINGS)) \
                or key in self.tables.countries:
            return None
        names = _country_level_names()
        for k in range(len(key), 4, -1):
            codes = {code for n, code in names if n.startswith(key[:k])}
            if not codes:
                continue
            code = codes.pop() if len(codes) == 1 else None
            known = any(other.startswith(key[:k]) and other.endswith(DEMONYM_ENDINGS) and c == code
                        for other, c in self.tables.countries.items() if other.isalpha())
            return None if known else code
        return None

    @staticmethod
    def _name_endings(entities: list[dict]) -> None:
        """(``contained_names``, 3.22) an organisation mention with no country, of two words or
        more, that ends exactly one country of the article's longer organisation names takes it
        ("Lankan Navy" in a headline, "Sri Lankan Navy" (LKA) in the lead). Changes the dicts
        given (``EventCoder.code`` passes copies)."""
        named = [(normalize_name(e.get("text") or "").split(), e["country"]) for e in entities
                 if e.get("label") == "ORG" and e.get("country")]
        for ent in entities:
            words = normalize_name(ent.get("text") or "").split()
            if ent.get("label") != "ORG" or ent.get("country") or len(words) < 2:
                continue
            codes = {code for longer, code in named if len(longer) > len(words) and longer[-len(words):] == words}
            if len(codes) == 1:
                ent["country"] = codes.pop()

    def _mistagged_country(self, ent: dict) -> str | None:
        """(``mistagged_default``) the country of a person, organisation or facility mention whose
        whole capitalised name is a place of the country table."""
        text = ent.get("text") or ""
        if ent.get("label") in ("PERSON", "ORG", "FAC") and text[:1].isupper():
            return self.tables.countries.get(normalize_name(text))
        return None

    def _ranked_place(self, ent: dict) -> str | None:
        """The country of an entity without one for the article's ranking: a subdivision
        (``subdivisions``), or with ``mistagged_home`` a person, organisation or facility
        mention whose whole name is a place of the country table ("Yerevan" tagged PERSON)."""
        code = self._subdivision(ent) if self.subdivisions else None
        if code is None and self.mistagged_home and ent.get("label") in ("PERSON", "ORG", "FAC"):
            text = ent.get("text") or ""
            if text[:1].isupper():
                code = self.tables.countries.get(normalize_name(text))
        return code

    def _demonym(self, text: str) -> str | None:
        """(``demonym_stems``) the one country of the country table's single-word names that
        share the longest prefix (five letters or more) with a word the table lacks
        ("Maldivian" -> "maldives"); None when none or several countries share it."""
        key = normalize_name(text)
        if not key.isalpha() or len(key) < 5 or key in self.tables.countries or not text[:1].isupper():
            return None
        if self._prefixes is None:
            self._prefixes = {}
            for name, code in self.tables.countries.items():
                if name.isalpha():
                    for k in range(5, len(name) + 1):
                        self._prefixes.setdefault(name[:k], set()).add(code)
        for k in range(len(key), 4, -1):
            codes = self._prefixes.get(key[:k])
            if codes:
                return next(iter(codes)) if len(codes) == 1 else None
        return None

    def _offices(self, entities: list[dict], docs) -> dict[str, str]:
        """(``igo_office``) entity_id of each person -> IGO / NGO when a phrase naming them holds
        an international body or NGO before the name ("European Commission President Ursula
        von der Leyen", "the UN's envoy X"): the office, not the person's nationality, acts."""
        out: dict[str, str] = {}
        for doc, mine, ent, span, head in _named_people(entities, docs, out):
            phrase = noun_phrase(head)
            before = doc[phrase.start:span.start].text if phrase.start < span.start else ""
            start = doc[phrase.start].idx if before else None
            for org in mine:
                if start is not None and org.get("label") == "ORG" and start <= org["start_char"] \
                        and org["end_char"] <= ent["start_char"]:
                    code = self._body_code(org)
                    if code:
                        out[ent["entity_id"]] = code
                        break
        return out

    def _introductions(self, entities: list[dict], docs) -> dict[str, str]:
        """entity_id of each person -> the country of the nationality or place word in the noun
        phrase that names them ("[Kazakh] President Kassym-Jomart Tokayev", "[India]'s foreign
        minister S. Jaishankar"): the body first, then the headline; the first such phrase wins."""
        out: dict[str, str] = {}
        people = _named_people(entities, sorted(docs, key=lambda fd: fd[0] != "body"), out)
        for doc, mine, ent, span, head in people:
            phrase = noun_phrase(head)
            words = [t for t in phrase if t.i < span.start]
            if head.i < span.start:
                words = [t for t in doc[phrase.start:span.start]]
            if self.own_conjunct:
                words = _own_conjunct(words, ent, mine, entities)
            for tok in words:
                # The nationality word itself, whatever the tagger called it ("his
                # [Azerbaijani] counterpart" is often tagged PERSON).
                found = next((e.get("country") for e in mine if e["start_char"] <= tok.idx < e["end_char"]
                              and e.get("label") in ("NORP", "GPE") and e.get("country") in self._codes), None)
                if found is None and tok.is_alpha and tok.text[:1].isupper():
                    found = self.tables.countries.get(normalize_name(tok.text))
                if found is None and self.descriptor_places and tok.is_alpha and tok.text[:1].isupper() \
                        and not any(e["start_char"] <= tok.idx < e["end_char"] and e.get("country") for e in mine):
                    found = _named_place(tok.text, entities)
                if found and found not in ("IGO", "NGO", "MNC"):
                    out[ent["entity_id"]] = found
                    break
                body = next((e for e in mine if e["start_char"] <= tok.idx < e["end_char"]
                             and e.get("label") == "ORG"), None) if self.introduced_body else None
                found = self._body_code(body) if body is not None else None
                if found:
                    out[ent["entity_id"]] = found
                    break
        return out

    def _titles(self, entities: list[dict], docs) -> dict[str, list[dict]]:
        """(``titled_people``, measured in 3.32, not kept) a title word's lemma -> the people the article
        introduces by it: the agent word just before a person's name in the phrase that names
        them ("Iranian [ambassador] Ahmad Sadeghi", "Prime [Minister] Kristen Michal"), each
        person once (body first, then the headline)."""
        agents, out = self.tables.agents, {}
        for doc, mine, ent, span, head in _named_people(entities, sorted(docs, key=lambda fd: fd[0] != "body"), {}):
            if span.start == 0:
                continue
            tok = doc[span.start - 1]
            if tok.sent.start != span.sent.start or tok.pos_ not in ("NOUN", "PROPN") or tok.ent_type_ \
                    or tok.tag_ in ("NNS", "NNPS") or not (agents.get(tok.lower_) or agents.get(tok.lemma_.lower())):
                continue
            people = out.setdefault(self._title_key(tok), [])
            if all(p["entity_id"] != ent["entity_id"] for p in people):
                people.append(ent)
        return out

    def _title_key(self, tok) -> str:
        """(``titled_people``) a title word with the words that make it one office ("[Prime]
        Minister", "[finance] minister", "[opposition] leader"), lower case, leaving out names,
        nationality and country words ("[Iranian] ambassador", "[Iran's] ambassador")."""
        words = [t for t in tok.lefts if t.dep_ in ("compound", "amod") and not t.ent_type_ and t.is_alpha
                 and normalize_name(t.text) not in self.tables.countries and not self._demonym(t.text)]
        return " ".join([t.lower_ for t in words] + [tok.lemma_.lower()])

    def _titled_person(self, span, inside: list[dict], context: ArticleContext) -> dict | None:
        """(``titled_people``) the one person the article introduces by the title word heading a
        singular phrase with no person in it ("Iran's [ambassador]" -> "Ahmad Sadeghi"), else None."""
        root = span.root
        if root.pos_ not in ("NOUN", "PROPN") or root.ent_type_ or root.tag_ in ("NNS", "NNPS") \
                or any(e.get("label") == "PERSON" for e in inside) \
                or any(c.dep_ == "det" and c.lower_ in INDEFINITE for c in root.children):
            return None   # "a spokesman", "another minister": someone else
        people = context.titled.get(self._title_key(root)) or []
        return people[0] if len(people) == 1 else None

    def _person_record(self, person: dict, context: ArticleContext) -> dict:
        """The actor record of a person entity named elsewhere (a pronoun's person, a titled
        phrase's): the person's words, their own country, else the article's."""
        country = ((self.own_country or self.corpus_people) and self._own_country([person], context)) \
            or person.get("country") \
            or self._dictionary_actor(person, context)[0]
        if country is None and self.introduced_country:
            country = context.introduced.get(person.get("entity_id"))
        if country is None and (self.surname_dated or self.surname_country):
            country = self._surname_country([person], context)
        if country is None and self.pronoun_home:
            # (3.1) what the person's own mention had: the country the article gave it,
            # else the article's country, as for a named person without a country word
            country = (context.known.get(person.get("entity_id")) or (None,))[0] \
                or (self._unmarked_country(context.default_country, context) if self.unmarked_home
                    else context.default_country)
        sector = self._dictionary_actor(person, context)[1]
        return {"text": person["text"], "entity_id": person.get("entity_id"), "country": country,
                "sector": sector}

    def _body_code(self, ent: dict) -> str | None:
        """(``introduced_body``) IGO or NGO for an organisation the actor dictionary knows only as
        one of those, or whose name reads as an international body; else None."""
        for name in (ent.get("canonical"), ent.get("text")):
            if not name:
                continue
            entries = self.tables.actors.get(" ".join(_strip_det(name).lower().replace("-", " ").split())) or ()
            codes = {e[0] for e in entries}
            if len(codes) == 1 and codes <= {"IGO", "NGO"}:
                return codes.pop()
            if international_body(name):
                return "IGO"
        return None

    def is_actor(self, tok) -> bool:
        """Whether a noun names an actor: an actor entity, an agent word ("police",
        "peacekeepers", "foreign ministry") or a personal pronoun."""
        if tok.pos_ == "PRON":
            if self.pronoun_names and misread_name(tok):
                return True
            return tok.lower_ in MALE_FEMALE or tok.lower_ in ("they", "them")
        if is_dateline(tok, self.wide_datelines):
            return False
        if tok.ent_type_ in ("PERSON", "ORG", "GPE", "NORP"):
            return True
        agents = self.tables.agents
        if agents.get(tok.lower_) or agents.get(tok.lemma_.lower()) or self._learned(tok) or self._acronym_plural(tok):
            return True
        # "rebel movement", "police chief", "army units": a modifier that is itself an agent.
        left = [t for t in tok.lefts if t.dep_ in ("compound", "amod")]
        return any(agents.get(t.lower_) or agents.get(t.lemma_.lower()) or self._learned(t) or self._acronym_plural(t)
                   or t.ent_type_ in ("ORG", "NORP", "GPE") for t in left)

    def is_named_actor(self, tok) -> bool:
        """Whether a noun is an actor by itself: an actor entity or an agent word, not a noun an
        actor modifier makes one ("border" of "Kyrgyz-Tajik border"), nor a pronoun (3.1)."""
        if tok.pos_ not in ("NOUN", "PROPN") or is_dateline(tok, self.wide_datelines):
            return False
        if tok.ent_type_ in ("PERSON", "ORG", "GPE", "NORP"):
            return True
        return bool(self.tables.agents.get(tok.lower_) or self.tables.agents.get(tok.lemma_.lower())
                    or self._learned(tok) or self._acronym_plural(tok))

    def actor(self, span, ents: list[dict], context: ArticleContext) -> dict | None:
        """Actor record {text, entity_id, country, sector} for a phrase, or None for 'it'/'they'."""
        if len(span) == 1 and span[0].pos_ == "PRON" and not (self.pronoun_names and misread_name(span[0])):
            # "he"/"him": the last person named before it in the sentence, else in the article;
            # the actor is named by that person's words, not by the pronoun.
            before = [e for e in ents if e.get("label") == "PERSON"
                      and span.sent.start_char <= e["start_char"] and e["end_char"] <= span.start_char]
            person = before[-1] if before else context.last_person
            if span[0].lower_ in MALE_FEMALE and person is not None:
                return self._person_record(person, context)
            return None
        inside = [e for e in _overlapping(ents, span.start_char, span.end_char) if e.get("label") in ACTOR_LABELS]
        head = self._head_entity(span, inside)
        dict_country, dict_sector = self._dictionary_actor(head, context) if head else (None, None)
        if dict_country is None:
            dict_country, dict_sector = self._dictionary_name(_strip_det(span.text), context)
        persons = self._persons(span, inside, context) if self._person_rules() else []
        # Only the person the phrase is about: "Putin's envoy" is no Russian by Putin's role.
        own = self._own_country([p for p in persons if p["start_char"] <= span.root.idx < p["end_char"]], context) \
            if self.own_country or self.corpus_people else None
        if dict_country is None and head is not None and head.get("label") == "ORG" and \
                international_body(head.get("canonical") or head["text"]):
            dict_country = "IGO"
        country = head.get("country") if head else None
        if self.expanded_names and dict_country is None and head is not None and (head.get("label") == "ORG" or (
                self.acronym_norp and head.get("label") == "NORP" and (head.get("text") or "").isupper())):
            # "Amnesty" for the lead's "Amnesty International", "PLA" for "the Chinese People's
            # Liberation Army": the full name's entry or country words, before the short name's
            full = self._expanded_name(head, context)
            if full is not None:
                country, (dict_country, dict_sector) = None, full
        if country is not None and country not in self._codes:
            country = None  # not an ISO-3 / IGO-style code: let the dictionaries decide
        if dict_country in ("IGO", "NGO", "MNC"):
            country = dict_country
        country = own or country or dict_country or self._country_in_phrase(span, inside) \
            or self._mistagged_place(inside)
        sector = dict_sector if head is not None and head.get("label") == "ORG" and dict_sector else None
        sector = sector or self._sector_in_phrase(span) or dict_sector
        entity_id = head.get("entity_id") if head else None
        if entity_id and entity_id in context.known:
            known_country, known_sector = context.known[entity_id]
            country, sector = country or known_country, sector or known_sector
        if self.igo_office:
            office = next((context.offices[e["entity_id"]] for e in persons
                           if e.get("entity_id") in context.offices
                           and e["start_char"] <= span.root.idx < e["end_char"]), None)
            country = office or country
        if country is None and self.introduced_country:
            country = next((context.introduced[e["entity_id"]] for e in persons
                            if e.get("entity_id") in context.introduced), None)
        if country is None and (self.surname_dated or self.surname_country):
            country = self._surname_country(persons, context)
        # (``norp_home``, 3.22) a nationality or group without a country, as an organisation
        bodies = ("ORG", "PERSON", "NORP") if self.norp_home else ("ORG", "PERSON")
        if self.unknown_places and head is not None and head.get("label") == "GPE" and not head.get("country") \
                and not head.get("geo"):
            # (``unknown_places``, 3.31) a "place" no table knows is a name the tagger misread ("Yoon")
            bodies += ("GPE",)
        own_words = country   # (``titled_people``) the country the phrase's own words give
        if country is None and (sector or (head and head.get("label") in bodies)):
            country = context.default_country
            if self.unmarked_home and head is not None and head.get("label") == "PERSON":
                country = self._unmarked_country(country, context)
        if entity_id and (country or sector):
            context.known.setdefault(entity_id, (country, sector))
        titled = self._titled_person(span, inside, context) if self.titled_people else None
        if titled is not None:
            # (``titled_people``) "Iran's ambassador" is the article's "Iranian ambassador Ahmad
            # Sadeghi", unless the phrase gives another country than the person's own
            record = self._person_record(titled, context)
            if own_words is None or record["country"] in (None, own_words):
                return {**record, "country": record["country"] or country, "sector": record["sector"] or sector}
        return {"text": span.text, "entity_id": entity_id, "country": country, "sector": sector}

    def location(self, sent, verb, ents: list[dict], source_span, target_span):
        """(place text, its ISO-3 country) where the event happened, or (None, None)."""
        taken = [s for s in (source_span, target_span) if s is not None]
        candidates = []
        if verb is not None:
            for child in list(verb.children) + [g for c in verb.children if c.dep_ in ("dobj", "pobj")
                                                for g in c.children]:
                if child.dep_ == "prep" and child.lower_ in PLACE_PREPS:
                    for pobj in child.children:
                        if pobj.dep_ == "pobj" and pobj.ent_type_ in PLACE_LABELS:
                            candidates.append(pobj)
        for tok in candidates:
            for ent in sent.ents:
                if ent.start <= tok.i < ent.end:
                    return ent.text, self._place_country(ent, ents)
        for ent in sent.ents:
            if ent.label_ in PLACE_LABELS and not any(s.start <= ent.start < s.end for s in taken):
                head = ent.root.head
                if head.dep_ == "prep" and head.lower_ in PLACE_PREPS:
                    return ent.text, self._place_country(ent, ents)
        return None, None

    def event_date(self, sent, verb, ents: list[dict], published_at: datetime | None) -> str | None:
        """ISO day of the event: a DATE in the sentence (the verb's own first), else publication day."""
        dates = [ent for ent in sent.ents if ent.label_ == "DATE"]
        if verb is not None:
            dates.sort(key=lambda ent: 0 if ent.root.head.i == verb.i or ent.root.head.head.i == verb.i else 1)
        for ent in dates:
            resolved = resolve_date(ent.text, published_at)
            if resolved:
                return resolved
        return published_at.date().isoformat() if published_at else None

    # -- helpers -------------------------------------------------------------------------

    def _head_entity(self, span, inside: list[dict]) -> dict | None:
        root = span.root
        for ent in inside:
            if ent["start_char"] <= root.idx < ent["end_char"]:
                return ent
        persons = [e for e in inside if e.get("label") in ("PERSON", "ORG")]
        return max(persons, key=lambda e: e["end_char"] - e["start_char"]) if persons else None

    def _subdivision(self, ent: dict) -> str | None:
        """(``subdivisions``) the country of a place mention the gazetteer could not place that
        names a province, state or region of one country ("Zamfara", "Rakhine State")."""
        if ent.get("label") not in ("GPE", "LOC") or ent.get("country") or not self.tables.subdivisions:
            return None
        key = normalize_name(ent.get("text") or "")
        words = key.split()
        if len(words) > 1 and words[-1] in SUBDIVISION_WORDS:
            key = " ".join(words[:-1])
        return self.tables.subdivisions.get(key)

    def _country_in_phrase(self, span, inside: list[dict]) -> str | None:
        for ent in inside:
            if ent.get("label") in ("GPE", "NORP", "LOC", "ORG"):
                country = ent.get("country") or country_for(ent["text"], ent.get("label")) \
                    or (self._subdivision(ent) if self.subdivisions else None)
                if country:
                    return country
        words = [t.lower_ for t in span]
        for table in (self.tables.countries, self.tables.actors):
            for n in (3, 2, 1):
                for i in range(len(words) - n + 1):
                    if any(span[j].ent_type_ == "PERSON" for j in range(i, i + n)):
                        continue
                    if self.cased_places and table is self.tables.countries \
                            and not (span[i].text[:1].isupper() and span[i + n - 1].text[:1].isupper()):
                        continue   # "a man", "oral salts": common words, not Man or Oral
                    hit = table.get(" ".join(words[i:i + n]))
                    if isinstance(hit, list):  # actor entries: the country of the last role
                        hit = hit[-1][0]
                    if hit:
                        return hit
        return None

    def _persons(self, span, inside: list[dict], context: ArticleContext) -> list[dict]:
        """The person entities a phrase names; with ``surname_link`` also the person of the
        article whose full name ends in a capitalised word of the phrase that no entity of the
        phrase takes for a place or a nationality ("Carney" in a headline, tagged ORG, is the
        lead's "Canadian Prime Minister Mark Carney"). Two such people give none."""
        persons = [e for e in inside if e.get("label") == "PERSON"]
        if not self.surname_link:
            return persons
        places = [e for e in inside if e.get("label") in ("GPE", "NORP", "LOC")]
        for tok in span:
            if not (tok.is_alpha and tok.text[:1].isupper() and len(tok) > 3) \
                    or any(e["start_char"] <= tok.idx < e["end_char"] for e in places):
                continue
            word = tok.lower_
            full = {e.get("canonical") or e["text"] for e in context.entities if e.get("label") == "PERSON"
                    and len(_name_key(e.get("canonical") or e["text"]).split()) > 1
                    and _name_key(e.get("canonical") or e["text"]).split()[-1] == word}
            if not full and self.inner_names and (tok.i == span.root.i or any(
                    e["start_char"] == tok.idx and e["end_char"] == tok.idx + len(tok) for e in inside)):
                # (``inner_names``, 3.31) a one-word mention that is another word of one longer name:
                # "Lula" for "Luiz Inácio Lula da Silva"
                full = {e.get("canonical") or e["text"] for e in context.entities if e.get("label") == "PERSON"
                        and word in _name_key(e.get("canonical") or e["text"]).split()[:-1]}
            if len(full) == 1:
                name = full.pop()
                ent = next(e for e in context.entities if (e.get("canonical") or e["text"]) == name)
                if all(p.get("entity_id") != ent.get("entity_id") for p in persons):
                    # the linked person stands where the word does (for ``own_country``'s head test)
                    persons.append({**ent, "start_char": tok.idx, "end_char": tok.idx + len(tok), "linked": True})
        return persons

    @staticmethod
    def _unmarked_country(default: str | None, context: ArticleContext) -> str | None:
        """(``unmarked_home``) the country of a person the article gives no country word: not the
        one whose nationality word marks another person as foreign ("[Japanese] Prime Minister
        Fumio Kishida" beside a bare "President Yoon"), but the most named country that marks
        no one; the article's country when every named country marks someone."""
        marked = set(context.introduced.values())
        if default is None or default not in marked:
            return default
        return next((c for c in context.ranked if c not in marked), default)

    def _expanded_name(self, head: dict, context: ArticleContext) -> tuple[str, str | None] | None:
        """(``expanded_names``) (country, sector) of the one longer organisation name of the
        article that a short one stands for: an acronym of its initials ("WHO", or "PLA" for the
        end of "Chinese People's Liberation Army") or its first word ("Amnesty" for "Amnesty
        International"); from the actor dictionary, else IGO for an international body, else a
        country word inside it. None when no such name, several, or one without a country."""
        short = (head.get("text") or "").replace("’s", "").replace("'s", "").strip()
        words = short.split()
        if len(words) != 1 or not short.isalpha() or len(short) < 2:
            return None
        acronym = short.isupper()
        if not acronym and not short[:1].isupper():
            return None
        found = set()
        for ent in context.entities:
            name = (ent.get("text") or "").strip()
            parts = name.replace("-", " ").split()
            if ent.get("label") not in ("ORG", "NORP", "FAC") or len(parts) < 2:
                continue
            if acronym:
                letters = [p[0].upper() for p in parts if p[:1].isalpha()]
                content = [p[0].upper() for p in parts if p[:1].isupper()]
                if any("".join(seq[k:]) == short for seq in (letters, content) for k in range(len(seq) - 1)):
                    found.add(name)
            elif parts[0] == short:
                found.add(name)
        if len(found) != 1:
            return None
        name = found.pop()
        entry = self._dictionary_name(_strip_det(name), context)
        if entry[0] is not None:
            return entry
        if international_body(name):
            return "IGO", None
        code = country_for(name, "ORG")
        return (code, None) if code else None

    def _own_country(self, persons: list[dict], context: ArticleContext) -> str | None:
        """(``own_country``) the country of a person the phrase names whom the actor dictionary
        knows in a role covering the article's day: a person's own country comes before the
        words around them and the article's ("Putin" in a story about a visit to Pyongyang).
        (``corpus_people``, 3.27, with or without ``own_country``) else the country the
        corpus's gold actor spans give a person the dictionary does not know in such a role."""
        for ent in persons if self.own_country else ():
            for name in (ent.get("canonical"), ent.get("text")):
                country = self._dated_country(_name_key(name), context) if name else None
                if country:
                    return country
        if self.corpus_people:
            for ent in persons:
                names = [_name_key(n) for n in (ent.get("canonical"), ent.get("text")) if n]
                if any(self._dated_country(name, context) for name in names):
                    continue   # the dictionary knows them in a current role: its entry decides, as before
                country = self._corpus_person(ent)
                if country:
                    return country
        return None

    def _corpus_person(self, ent: dict) -> str | None:
        """(``corpus_people``, 3.27) the country the PLOVER corpus's gold actor spans give
        a person the dictionary does not know in a current role: by the full name's key, else by
        its last word ("Trudeau" for "Justin Trudeau")."""
        people = self.tables.corpus_people
        keys = [_name_key(n) for n in (ent.get("canonical"), ent.get("text")) if n]
        for key in keys:
            if key in people:
                return people[key]
        for key in keys:
            words = key.split()
            if len(words) >= 2 and words[-1] in people:
                return people[words[-1]]
        return None

    def _surname_country(self, persons: list[dict], context: ArticleContext) -> str | None:
        """(``surname_dated``, ``surname_country``) the country of a person the dictionary does
        not know by the name the article gives, from the dictionary's people of that surname."""
        for ent in persons:
            names = [_name_key(n) for n in (ent.get("canonical"), ent.get("text")) if n]
            if any(name in self.tables.actors for name in names):
                continue   # known by name: the dictionary has spoken (its role may be out of date)
            country = self._surname(names[0].split()[-1], context) if names and names[0] else None
            if country:
                return country
        return None

    def _dated_country(self, key: str, context: ArticleContext) -> str | None:
        """The country of a dictionary person's role covering the article's day, else None."""
        day = context.published_at.date().isoformat() if context.published_at else None
        if not day:
            return None
        entries = self.tables.actors.get(key) or (self.folded_names and self.tables.actors.get(fold_accents(key))) or ()
        for country, _sector, start, end in entries:
            if (start or end) and (start is None or start <= day) and (end is None or day <= end) \
                    and country not in ("IGO", "NGO", "MNC"):
                return country
        return None

    def _surname(self, surname: str, context: ArticleContext) -> str | None:
        """The one country of the dictionary's people whose full name ends in ``surname``:
        with ``surname_dated`` only people in a role covering the article's day, with
        ``surname_country`` any of them; two countries (or none) give None."""
        if len(surname) < 4 or surname in self.tables.countries or surname in self.tables.agents:
            return None
        if self._surnames is None:
            self._surnames = {}
            for key, entries in self.tables.actors.items():
                words = key.split()
                if len(words) >= 2 and any(e[2] or e[3] for e in entries):   # dated roles: a person
                    self._surnames.setdefault(words[-1], []).append(key)
        keys = self._surnames.get(surname, ())
        if self.surname_dated:
            countries = {c for c in (self._dated_country(k, context) for k in keys) if c}
        else:
            countries = {e[0] for k in keys for e in self.tables.actors[k] if e[0] not in ("IGO", "NGO", "MNC")}
        return next(iter(countries)) if len(countries) == 1 else None

    def _mistagged_place(self, inside: list[dict]) -> str | None:
        """Country of a place the NER took for a person ("Niger's military government",
        "Porto Alegre's mayor"): a PERSON entity whose whole name is a country or city name."""
        from pipelines.nlp.countries import normalize_name

        for ent in inside:
            if ent.get("label") == "PERSON":
                code = self.tables.countries.get(normalize_name(ent["text"]))
                if code:
                    return code
        return None

    def _sector_in_phrase(self, span) -> str | None:
        words = [t.lower_ for t in span]
        lemmas = [t.lemma_.lower() for t in span]
        # Leftmost agent word wins: it names the organisation ("opposition leader" -> OPP).
        for i in range(len(words)):
            if span[i].ent_type_ == "PERSON":
                continue
            for n in range(min(self._max_agent_words, len(words) - i), 0, -1):
                for seq in (words, lemmas):
                    hit = self.tables.agents.get(" ".join(seq[i:i + n]))
                    if hit:
                        return hit
                if n == 1 and self._learned(span[i]):
                    return self._learned(span[i])
                if n == 1 and self._acronym_plural(span[i]):
                    return self._acronym_plural(span[i])
        return None

    def _dictionary_actor(self, ent: dict, context: ArticleContext) -> tuple[str | None, str | None]:
        for name in (ent.get("canonical"), ent.get("text")):
            if name:
                found = self._dictionary_name(name, context)
                if found != (None, None):
                    return found
        return None, None

    def _dictionary_name(self, name: str, context: ArticleContext) -> tuple[str | None, str | None]:
        key = " ".join(name.lower().replace("-", " ").split())
        entries = self.tables.actors.get(key)
        if not entries and self.folded_names:
            entries = self.tables.actors.get(fold_accents(key))
        if not entries:
            return None, None
        day = context.published_at.date().isoformat() if context.published_at else None
        chosen = None
        if day:
            for country, sector, start, end in entries:
                if (start is None or start <= day) and (end is None or day <= end) and start is not None:
                    chosen = (country, sector)
                    break
        if chosen is None:
            latest = max(entries, key=lambda e: (e[3] or "9999", e[2] or ""))
            chosen = (latest[0], latest[1])
        return chosen

    def _place_country(self, ent, ents: list[dict]) -> str | None:
        for e in _overlapping(ents, ent.start_char, ent.end_char):
            if e.get("country"):
                return e["country"]
            if self.subdivisions and self._subdivision(e):
                return self._subdivision(e)
        return country_for(ent.text, ent.label_) or self.tables.countries.get(ent.text.lower())


def _named_people(entities: list[dict], docs, done: dict):
    """(doc, the entities of its field, a person entity not yet in ``done``, its span, the head of
    the phrase naming them) for each person in ``docs`` (field, doc) pairs, in their order; the head
    climbs from the name to a title or appositive it belongs to ("Zelensky" in "President Zelensky")."""
    for field_name, doc in docs:
        if doc is None:
            continue
        mine = [e for e in entities if e.get("field") == field_name]
        for ent in mine:
            if ent.get("label") != "PERSON" or not ent.get("entity_id") or ent["entity_id"] in done:
                continue
            span = doc.char_span(ent["start_char"], ent["end_char"], alignment_mode="expand")
            if span is None:
                continue
            head = span.root
            while head.dep_ in ("appos", "compound", "flat") and head.head.pos_ in ("NOUN", "PROPN") \
                    and head.head.i != head.i:
                head = head.head
            yield doc, mine, ent, span, head


def _own_conjunct(words: list, ent: dict, mine: list[dict], entities: list[dict]) -> list:
    """(``own_conjunct``, measured in 3.31, not kept) the words of an introducing phrase that belong to the
    person's own conjunct: those after another person's name before them and the conjunction,
    comma or semicolon that follows it ("Bavarian Minister-President Markus Söder and [Quebec
    Premier] François Legault"); with no one else named before, the whole phrase ("Japan's
    Minister of Economy, Trade and Industry X"). A "person" the article names elsewhere as a
    place is none ("[Zaporizhzhia] regional governor", tagged PERSON)."""
    def other_person(tok):
        return any(e.get("label") == "PERSON" and e.get("entity_id") != ent.get("entity_id")
                   and e["start_char"] <= tok.idx < e["end_char"] and not _named_place(e.get("text") or "", entities)
                   for e in mine)

    last = max((k for k, tok in enumerate(words) if other_person(tok)), default=None)
    if last is None:
        return words   # no one else named before: "Minister of Economy, Trade and Industry X" stays whole
    cut = last + 1
    if cut < len(words) and (words[cut].pos_ == "CCONJ" or words[cut].text in (",", ";")):
        cut += 1
    return words[cut:]


def _named_place(text: str, entities: list[dict]) -> str | None:
    """(``descriptor_places``, measured in 3.31, not kept; also ``own_conjunct``) the country of the article's place mentions
    (GPE or LOC) written as ``text``, when they agree on one."""
    key = normalize_name(text)
    codes = {e["country"] for e in entities if e.get("label") in ("GPE", "LOC") and e.get("country")
             and normalize_name(e.get("text") or "") == key}
    return codes.pop() if len(codes) == 1 else None


@lru_cache(maxsize=1)
def _country_level_names() -> tuple[tuple[str, str], ...]:
    """(``org_demonym``) (one-word name, ISO-3) of the gazetteer's countries, not its cities."""
    rows = json.loads(resource_path("entities/gazetteer.json").read_text(encoding="utf-8"))
    return tuple(sorted({(key, country) for names, _lat, _lon, country, _fclass, _pop, kind in rows
                         if kind == "country" and country for key in map(normalize_name, names) if key.isalpha()}))
