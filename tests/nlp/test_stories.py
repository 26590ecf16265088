"""The story matcher: near copies, same-event coverage, ids that depend only on the assignment order."""
import random

import pytest

from pipelines.nlp.stories import NUM_PERM, Signature, StoryConfig, StoryIndex, assign_in_order, decode_entry, \
    encode_entry, jaccard, match_score, minhash, new_story_id, shingles, signature

WIRE = ("Kenya and Tanzania signed a trade agreement in Nairobi on Tuesday, ending a dispute over "
        "border tariffs that had lasted two years. The deal cuts duties on maize, tea and cement and "
        "sets up a joint committee to settle future disputes, officials from both countries said. "
        "President Uhuru Kenyatta called it a new chapter for East African trade, while Tanzanian "
        "ministers said farmers on both sides of the border would benefit within months.")
EDITED = WIRE.replace("on Tuesday", "on Tuesday afternoon").replace("officials from both countries said",
                                                                     "the two governments said")
OTHER = ("Floods in southern Mozambique have forced thousands of families from their homes, aid agencies "
         "said, after the Limpopo river burst its banks following a week of heavy rain. Roads to the "
         "north were cut and the government appealed for boats, tents and clean water.")
HOUR_MS = 3600 * 1000


def entity(text, label, entity_id, field="body", start=0):
    return {"text": text, "label": label, "field": field, "start_char": start, "end_char": start + len(text),
            "canonical": text, "entity_id": entity_id, "country": None, "geo": None}


def event(event_type, source, target):
    actor = lambda eid: {"text": eid, "entity_id": eid, "country": None, "sector": None}  # noqa: E731
    return {"event_type": event_type, "source_actor": actor(source), "target_actor": actor(target)}


def record(article_id, body, published_hours=0, entities=(), events=(), primary=None):
    return {"id": article_id, "body": body, "published_at": published_hours * HOUR_MS,
            "entities": list(entities), "events": list(events), "primary_event_type": primary}


KENYA = [entity("Kenya", "GPE", "Q114"), entity("Tanzania", "GPE", "Q924", start=10),
         entity("Uhuru Kenyatta", "PERSON", "Q57700", start=30), entity("Nairobi", "GPE", "Q3870", start=50)]
AGREE = [event("AGREE", "Q114", "Q924")]


def test_minhash_estimates_jaccard_and_is_stable():
    a, b = shingles(WIRE), shingles(EDITED)
    true = len(a & b) / len(a | b)
    assert abs(jaccard(minhash(a), minhash(b)) - true) < 0.15
    assert minhash(a) == minhash(set(sorted(a)))          # a function of the set only
    assert len(minhash(a)) == NUM_PERM
    assert jaccard(minhash(a), minhash(shingles(OTHER))) < 0.1


def test_a_near_copy_joins_the_story_and_an_unrelated_article_does_not():
    index = StoryIndex()
    first = index.assign(signature(record("a", WIRE)))
    assert index.assign(signature(record("b", EDITED, published_hours=24 * 30))) == first  # copies: no window
    assert index.assign(signature(record("c", OTHER))) != first
    assert first.startswith("s-") and len(first) == 18


def test_same_event_needs_entities_the_event_dyad_and_the_window():
    cfg = StoryConfig()
    rewrite = ("Farmers welcomed the pact between Nairobi and Dodoma. Tanzania and Kenya agreed to lower "
               "tariffs, Uhuru Kenyatta said at a signing ceremony attended by hundreds of traders.")
    a = signature(record("a", WIRE, 0, KENYA, AGREE, "AGREE"))
    b = signature(record("b", rewrite, 5, KENYA[:3], AGREE, "AGREE"))
    assert jaccard(a.minhash, b.minhash) < cfg.duplicate_jaccard   # not a copy: matched as the same event
    assert match_score(a, b, cfg) is not None
    later = signature(record("b", rewrite, 24 * 10, KENYA[:3], AGREE, "AGREE"))
    assert match_score(a, later, cfg) is None                        # outside the window
    accuse = signature(record("b", rewrite, 5, KENYA[:3], [event("ACCUSE", "Q114", "Q924")], "ACCUSE"))
    assert match_score(a, accuse, cfg) is None                       # another event between the same actors
    one_entity = signature(record("b", rewrite, 5, KENYA[:1], AGREE, "AGREE"))
    assert match_score(a, one_entity, cfg) is None                   # "Kenya" alone is not a story
    deep = [dict(e, start_char=e["start_char"] + 5000) for e in KENYA[:3]]
    assert match_score(a, signature(record("b", rewrite, 5, deep, AGREE, "AGREE")), cfg) is None  # not in the lead


def test_ids_depend_on_the_order_of_assignment_only():
    records = [record("a", WIRE, 0, KENYA, AGREE, "AGREE"), record("b", EDITED, 1),
               record("c", OTHER, 2), record("d", OTHER + " More rain is forecast.", 3),
               record("e", "A short unrelated note about a cricket match at Lord's.", 4)]
    signatures = [signature(r) for r in records]
    expected = assign_in_order(signatures)
    for seed in range(5):
        shuffled = signatures[:]
        random.Random(seed).shuffle(shuffled)
        assert assign_in_order(shuffled) == expected
    assert expected["a"] == expected["b"] and expected["c"] == expected["d"]
    assert len({expected["a"], expected["c"], expected["e"]}) == 3


def test_a_known_article_keeps_its_story_and_entries_round_trip():
    index = StoryIndex()
    sig = signature(record("a", WIRE, 0, KENYA, AGREE, "AGREE"))
    story = index.assign(sig)
    copy, story_again = decode_entry(encode_entry(sig, story))
    assert copy == sig and story_again == story
    other = StoryIndex()                # another worker learns the entry, then sees the near copy
    other.add(copy, story)
    assert other.assign(signature(record("b", EDITED))) == story
    assert other.assign(sig) == story   # re-delivered: the same story


def test_a_new_story_does_not_take_an_id_in_use():
    index = StoryIndex()
    a = Signature("a", None, minhash(shingles(WIRE)), frozenset(), None, frozenset())
    story = index.assign(a)
    assert story == new_story_id(a, set())             # from its first band
    same_band = a.minhash[:4] + tuple(v + 1 for v in a.minhash[4:])   # nothing else in common: no match
    b = Signature("b", None, same_band, frozenset(), None, frozenset())
    assert new_story_id(b, set()) == story
    assert index.assign(b) != story                    # that id is taken: b's story is named after b


def test_the_index_forgets_its_oldest_entries_beyond_its_size():
    index = StoryIndex(StoryConfig(max_entries=2))
    for n, body in enumerate([WIRE, OTHER, "A third story about the price of tea in Mombasa markets today."]):
        index.assign(signature(record(str(n), body)))
    assert len(index) == 2 and index.story_of("0") is None


def test_undated_articles_match_by_text_and_entities_only():
    rewrite = ("Farmers welcomed the pact between Nairobi and Dodoma. Tanzania and Kenya agreed to lower "
               "tariffs, Uhuru Kenyatta said at a signing ceremony attended by hundreds of traders.")
    a = record("a", WIRE, 0, KENYA, AGREE, "AGREE")
    b = record("b", rewrite, 5, KENYA[:3], AGREE, "AGREE")
    assert match_score(signature(a), signature(b), StoryConfig()) is not None
    a["published_at"] = b["published_at"] = None   # an archive without dates: one hearing is like the next
    assert match_score(signature(a), signature(b), StoryConfig()) is None


def test_same_event_matches_count_against_the_first_article_of_a_story_only():
    people = [entity(name, "PERSON", f"P{n}", start=10 * n) for n, name in enumerate("ABCDEF")]
    first = signature(record("1", WIRE, 0, people[0:3], AGREE, "AGREE"))
    second = signature(record("2", "Another text about the same agreement entirely rewritten here.", 1,
                              people[1:4], AGREE, "AGREE"))
    third = signature(record("3", "A third text, rewritten again by yet another outlet later on.", 2,
                             people[3:6] + people[1:2], AGREE, "AGREE"))
    cfg = StoryConfig()
    assert match_score(first, second, cfg) and match_score(second, third, cfg) and not match_score(first, third, cfg)
    index = StoryIndex(cfg)
    story = index.assign(first)
    assert index.assign(second) == story
    assert index.assign(third) != story   # like the second, not like the story: no drift along a chain


def test_the_index_forgets_articles_older_than_its_memory_and_their_stories():
    index = StoryIndex(StoryConfig(window_hours=72, memory_hours=100))
    first = index.assign(signature(record("a", WIRE, 0)))
    assert index.assign(signature(record("b", EDITED, 90))) == first     # within memory: a copy joins
    index.assign(signature(record("c", OTHER, 150)))                     # the horizon moves to 50 h: "a" goes
    assert index.story_of("a") is None and index.story_of("b") == first and len(index) == 2
    index.assign(signature(record("d", OTHER + " More rain is forecast.", 260)))   # horizon 160 h: "b", "c" go
    assert len(index) == 1 and index.story_of("b") is None
    # The story went with its last article (the index keeps no trace of it) ...
    assert first not in index._stories and first not in index._founders
    # ... so a copy read now starts a story again, as the first of its text.
    assert index.assign(signature(record("e", EDITED, 261))) not in (index.story_of("d"), None)
    assert len(index._stories) == len(index._founders) == 2


def test_the_memory_is_at_least_the_window_and_undated_articles_stay_until_the_count_bound():
    index = StoryIndex(StoryConfig(window_hours=72, memory_hours=1))
    index.assign(signature(record("a", WIRE, 0)))
    index.assign(signature(record("b", OTHER, 70)))
    assert index.story_of("a") is not None                               # 70 h: within the window
    undated = dict(record("u", "An undated note about a cricket match at Lord's today."), published_at=None)
    index.assign(signature(undated))
    index.assign(signature(record("c", OTHER + " More rain is forecast.", 500)))
    assert index.story_of("a") is None and index.story_of("u") is not None


def test_a_future_date_does_not_move_the_horizon_of_a_clocked_index():
    now = 1_000 * 3600.0
    index = StoryIndex(StoryConfig(window_hours=72, memory_hours=100), clock=lambda: now)
    index.assign(signature(record("a", WIRE, 990)))
    index.assign(signature(record("z", OTHER, 990 + 24 * 365)))          # dated a year ahead: hostile or wrong
    assert index.story_of("a") is not None
    unclocked = StoryIndex(StoryConfig(window_hours=72, memory_hours=100))
    unclocked.assign(signature(record("a", WIRE, 990)))
    unclocked.assign(signature(record("z", OTHER, 990 + 24 * 365)))
    assert unclocked.story_of("a") is None                               # without a clock every date counts


def many_articles(count: int, seed_of=lambda n: n):
    """Random bodies from a small vocabulary (many near copies) with four of forty people each."""
    words = "tea maize cement border tariff farmers river rain boats tents water court".split()
    for n in range(count):
        rng = random.Random(seed_of(n))
        body = " ".join(rng.choice(words) + str(rng.randrange(50)) for _ in range(60))
        people = [entity(f"Person {rng.randrange(40)}", "PERSON", None, start=10 * k) for k in range(4)]
        yield signature(record(f"a{n}", body, n % 300 + n // 300 * 50, people))


@pytest.mark.parametrize("max_entries, memory_hours", [(50, 100), (10_000, 60)])   # by count; by time, out of order
def test_the_index_stays_bounded_over_many_articles(max_entries, memory_hours):
    index = StoryIndex(StoryConfig(max_entries=max_entries, memory_hours=memory_hours, window_hours=24))
    index._postings.merge_at = 400
    for sig in many_articles(600):
        index.assign(sig)
    assert len(index) <= min(max_entries, 61 * 2)
    # Every story and heap entry belongs to an article still held; every article held is posted,
    # and a merge drops the postings of every forgotten article.
    held = set(index._entries)
    posted = index._postings.numbers()
    assert {index._numbered[n].article_id for n in posted if n in index._numbered} == held
    assert any(n not in index._numbered for n in posted)        # forgotten since the last merge
    index._postings.merge(index._numbered.keys())
    posted = index._postings.numbers()
    assert set(posted) == set(index._numbered) and not index._postings._recent
    assert set(index._numbered) == {index._entries[i].number for i in held}
    assert set(index._stories) == {index.story_of(i) for i in held} and set(index._founders) == set(index._stories)
    assert len(index._dated) <= 2 * len(index) + 1024


def test_merging_the_postings_changes_no_story():
    # The packed postings find the same candidates as the dict they are merged from: an index that
    # merges every few articles (and forgets by count meanwhile) assigns exactly what one that never
    # merges does. Bodies repeat every 150 articles, so near copies and forgotten ones both occur.
    signatures = list(many_articles(500, seed_of=lambda n: n % 150 * 7 + n // 150 % 2))
    stories = []
    for merge_at in (10**9, 97):
        index = StoryIndex(StoryConfig(max_entries=200, memory_hours=100))
        index._postings.merge_at = merge_at
        stories.append([index.assign(sig) for sig in signatures])
    merged = index._postings
    assert merged._keys.size and len(merged._recent) < 97          # the second index did merge
    assert stories[0] == stories[1]
    assert len(set(stories[0])) < len(signatures) - 100              # and many articles joined a story


def test_the_packed_index_matches_as_the_signatures_do():
    records = [record("a", WIRE, 0, KENYA, AGREE, "AGREE"), record("b", EDITED, 1),
               record("c", OTHER, 2), record("d", OTHER + " More rain is forecast.", 3)]
    index = StoryIndex()
    for r in records:
        index.assign(signature(r))
    sig_a, sig_b = signature(records[0]), signature(records[1])
    # The entry's packed MinHash gives the same Jaccard as the signature's values.
    assert index.best_match(sig_b) == index.story_of("a")
    assert match_score(sig_a, sig_b, StoryConfig()) > 1.0
