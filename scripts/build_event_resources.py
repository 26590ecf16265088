"""Derive the event coder's compact dictionaries from the shared PLOVER/Phoenix/NGEC data.

Writes JSON tables under ``pipelines/resources/events/``:

- ``cameo2plover.json``: CAMEO code -> [PLOVER type, mode] (openeventdata/PLOVER, CC BY-SA 4.0)
- ``verbs.json``: verb form -> [CAMEO code, PLOVER type, mode] from the CAMEO.2.0 verb
  dictionary (openeventdata/petrarch2, MIT), keeping single-word verbs whose block has a code
- ``countries.json``: country name, nationality word, capital/major city -> ISO-3
  (NGEC countries.csv and the Phoenix country actor synonyms)
- ``agents.json``: agent word or phrase -> PLOVER sector (NGEC PLOVER_agents.txt, Phoenix agents,
  plus a short hand-written supplement for common news words such as "leader")
- ``actors.json``: named actor -> list of [country, sector, start, end] (Phoenix country,
  international and non-state actor dictionaries; dates as ISO strings or null)

Usage: python scripts/build_event_resources.py [--shared ../shared] [--out pipelines/resources/events]
"""
from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

from _shared import (CAMEO2PLOVER, CAMEO_VERBS, DEFAULT_SHARED, NGEC_AGENTS, NGEC_COUNTRIES, PHOENIX,
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
    "parliament": "LEG", "lawmakers": "LEG", "senate": "LEG", "congress": "LEG", "mps": "LEG",
    "court": "JUD", "judge": "JUD", "prosecutors": "JUD", "prosecutor": "JUD",
    "civilians": "CVL", "residents": "CVL", "villagers": "CVL", "workers": "LAB", "union": "LAB",
    "company": "BUS", "firm": "BUS", "journalists": "MED", "newspaper": "MED", "press": "MED",
    "media": "MED", "chief constable": "COP", "civil servants": "GOV",
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
    "REQUEST": ("10", None, "urge demand appeal request plead implore"),
    "ACCUSE": ("11", None, "accuse criticise criticize condemn denounce blame allege slam lambast "
                           "mock deride rebuke"),
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
             "plead": ["pleaded", "pled"], "kidnap": ["kidnapped", "kidnapping"],
             "outlaw": ["outlawed"], "sever": ["severed"], "rebuke": ["rebuked"]}


def strong_verbs() -> dict[str, list]:
    """Inflected form -> [PLOVER type, CAMEO root, mode] for the hand-picked reliable verbs."""
    out: dict[str, list] = {}
    for key, (root, mode, words) in STRONG_VERBS.items():
        etype = key.split("/")[0]
        for lemma in words.split():
            forms = [lemma] + IRREGULAR.get(lemma, [f.lower() for f in _inflect(lemma)])
            for form in forms:
                out.setdefault(form, [etype, root, mode])
    return out


# Institutions news names without a country word, and office holders after the 2014 Phoenix
# dictionaries; ours, from public knowledge. name -> [[country, sector, start, end], ...]
ACTOR_SUPPLEMENT = {
    "white house": [["USA", "GOV", None, None]], "pentagon": [["USA", "MIL", None, None]],
    "state department": [["USA", "GOV", None, None]], "department of justice": [["USA", "GOV", None, None]],
    "justice department": [["USA", "GOV", None, None]], "fbi": [["USA", "COP", None, None]],
    "cia": [["USA", "SPY", None, None]], "congress": [["USA", "LEG", None, None]],
    "senate": [["USA", "LEG", None, None]], "house of representatives": [["USA", "LEG", None, None]],
    "supreme court": [["USA", "JUD", None, None]],
    "downing street": [["GBR", "GOV", None, None]], "whitehall": [["GBR", "GOV", None, None]],
    "home office": [["GBR", "GOV", None, None]], "foreign office": [["GBR", "GOV", None, None]],
    "house of commons": [["GBR", "LEG", None, None]], "commons": [["GBR", "LEG", None, None]],
    "house of lords": [["GBR", "LEG", None, None]], "lords": [["GBR", "LEG", None, None]],
    "mps": [["GBR", "LEG", None, None]], "tories": [["GBR", "PTY", None, None]],
    "tory": [["GBR", "PTY", None, None]], "conservatives": [["GBR", "PTY", None, None]],
    "labour": [["GBR", "PTY", None, None]], "labour party": [["GBR", "PTY", None, None]],
    "liberal democrats": [["GBR", "PTY", None, None]], "lib dems": [["GBR", "PTY", None, None]],
    "ukip": [["GBR", "PTY", None, None]], "uk independence party": [["GBR", "PTY", None, None]],
    "tuc": [["GBR", "LAB", None, None]], "scottish executive": [["GBR", "GOV", None, None]],
    "kremlin": [["RUS", "GOV", None, None]], "european union": [["IGO", None, None, None]],
    "eu": [["IGO", None, None, None]], "united nations": [["IGO", None, None, None]],
    "nato": [["IGO", "MIL", None, None]],
    "donald trump": [["USA", "BUS", None, "2017-01-19"], ["USA", "GOV", "2017-01-20", "2021-01-19"],
                     ["USA", "ELI", "2021-01-20", "2025-01-19"], ["USA", "GOV", "2025-01-20", None]],
    "trump": [["USA", "GOV", "2017-01-20", "2021-01-19"], ["USA", "GOV", "2025-01-20", None],
              ["USA", "ELI", "2021-01-20", "2025-01-19"]],
    "joe biden": [["USA", "GOV", "2009-01-20", "2017-01-19"], ["USA", "GOV", "2021-01-20", "2025-01-19"]],
    "mike pence": [["USA", "GOV", "2017-01-20", "2021-01-19"]],
    "barack obama": [["USA", "GOV", "2009-01-20", "2017-01-19"], ["USA", "ELI", "2017-01-20", None]],
    "kim jong un": [["PRK", "GOV", "2011-12-17", None]], "kim jong-un": [["PRK", "GOV", "2011-12-17", None]],
    "sergei shoigu": [["RUS", "GOV", "2012-11-06", None]], "shoigu": [["RUS", "GOV", "2012-11-06", None]],
    "volodymyr zelensky": [["UKR", "GOV", "2019-05-20", None]],
    "zelensky": [["UKR", "GOV", "2019-05-20", None]], "zelenskyy": [["UKR", "GOV", "2019-05-20", None]],
    "emmanuel macron": [["FRA", "GOV", "2017-05-14", None]], "narendra modi": [["IND", "GOV", "2014-05-26", None]],
    "recep tayyip erdogan": [["TUR", "GOV", "2003-03-14", None]],
    "benjamin netanyahu": [["ISR", "GOV", "2009-03-31", None]],
    "theresa may": [["GBR", "GOV", "2010-05-12", "2019-07-24"]],
    "desmond tutu": [["ZAF", "REL", None, None]], "lee jae-myung": [["KOR", "GOV", "2025-06-04", None]],
}


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


def _inflect(verb: str) -> list[str]:
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
        forms = [m.group(1)] + (m.group(3).split() if m.group(3) else _inflect(m.group(1)))
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

    countries: dict[str, str] = {}
    with open(shared / NGEC_COUNTRIES, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            iso3 = row["CCA3"].strip()
            for name in [row["Name"]] + row["Nationality"].split(","):
                name = name.strip().lower()
                if name:
                    countries.setdefault(name, iso3)
    actors: dict[str, list] = {}
    dict_dir = shared / PHOENIX
    for fname in ACTOR_FILES:
        for names, codes in parse_actor_file(dict_dir / fname):
            # Country-level groups (a bare 3-letter code) give places and demonyms.
            if len(codes) == 1 and re.fullmatch(r"[A-Z]{3}", codes[0][0]) and codes[0][1] is None:
                for name in names:
                    if len(name) > 2:
                        countries.setdefault(name, codes[0][0])
                continue
            entries = []
            for code, start, end in codes:
                country, sector = _split_code(code)
                if country and re.fullmatch(r"[A-Z]{3}", country):
                    entries.append([country, sector, start, end])
            if not entries:
                continue
            for name in names:
                if len(name) > 3:
                    actors.setdefault(name, entries)

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
    actors.update(ACTOR_SUPPLEMENT)

    out.mkdir(parents=True, exist_ok=True)
    tables = {"cameo2plover": c2p, "verbs": verbs, "strong_verbs": strong_verbs(), "countries": countries,
              "agents": agents, "actors": actors}
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
    require(args.shared, CAMEO2PLOVER, CAMEO_VERBS, NGEC_COUNTRIES, NGEC_AGENTS,
            *(PHOENIX / name for name in ACTOR_FILES), PHOENIX / "Phoenix.agents.txt")
    sizes = build(args.shared, args.out)
    for name, n in sizes.items():
        print(f"{name}: {n} entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
