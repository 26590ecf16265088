"""The data folder the resource builders, trainers and benchmarks read, and its files.

In the project's workspace it sits beside the repository as ../shared; a clone from a forge does
not have it (README, "Measuring", says where each file comes from). Scripts check their inputs
before any slow step, so a missing folder costs one line, not a traceback from a loader.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"

BBC = Path("data/archive/bbc_news_2004_2005.jsonl")
NEWS100 = Path("data/archive/news_articles_100.csv")
CONLL_TRAIN = Path("data/ner/conll2003/eng.train")
SEED_TXT = Path("seeds/000_10c24450e8870a78.txt")
EVENTS = Path("data/events")
NGEC_COUNTRIES = EVENTS / "ngec/countries.csv"
NGEC_AGENTS = EVENTS / "ngec/PLOVER_agents.txt"
CAMEO2PLOVER = EVENTS / "plover/CAMEO2PLOVER-2021.txt"
PHOENIX = EVENTS / "phoenix-dictionaries"
CAMEO_VERBS = PHOENIX / "CAMEO.2.0.txt"


def require(shared: Path, *files: Path) -> None:
    """Exit with status 2 and one line on stderr naming the first of ``files`` missing under ``shared``."""
    for rel in files:
        path = shared / rel
        if not path.exists():
            script = "scripts/" + Path(sys.argv[0]).name
            print(f'{script}: needs {_shown(path)} (not in this clone; see README "Measuring")', file=sys.stderr)
            raise SystemExit(2)


def _shown(path: Path) -> str:
    """The path as the README writes it when it is under the default folder, else as given."""
    try:
        return "../shared/" + path.resolve().relative_to(DEFAULT_SHARED.resolve()).as_posix()
    except ValueError:
        return str(path)
