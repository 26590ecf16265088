"""Build seeds/articles.jsonl: the seed article plus a dozen short sample articles for demos and tests.

Usage: python scripts/make_seeds.py [--shared ../shared]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from _shared import DEFAULT_SHARED, SEED_TXT, require

ROOT = Path(__file__).resolve().parents[1]
# A dozen short sample articles written for newsflow (not copied from any outlet): politics and
# conflict that carry PLOVER events, and sport, arts and earnings stories that must carry none.
SAMPLES = [
 ("sample-01-ceasefire-talks", "Regional Wire", "Foreign ministers hold ceasefire talks in Geneva",
  "2025-03-12T08:30:00Z",
  "The foreign ministers of Armenia and Azerbaijan met in Geneva on Tuesday for a new round of talks on a lasting ceasefire. "
  "Swiss Foreign Minister Ignazio Cassis hosted the meeting and said both sides had agreed to continue negotiations next month. "
  "Armenian Foreign Minister Ararat Mirzoyan called the discussions constructive, while his Azerbaijani counterpart Jeyhun Bayramov "
  "urged Yerevan to sign a peace treaty without further delay."),
 ("sample-02-protest", "City Desk", "Thousands march in Nairobi against tax increases",
  "2024-06-25T14:00:00Z",
  "Thousands of protesters marched through central Nairobi on Tuesday against a finance bill that would raise taxes on bread and fuel. "
  "Police fired tear gas at demonstrators outside parliament, and several people were arrested. "
  "Opposition leader Raila Odinga demanded that President William Ruto withdraw the bill."),
 ("sample-03-sanctions", "Global Desk", "EU adopts new sanctions against Russia",
  "2025-02-24T11:00:00Z",
  "The European Union adopted a new package of sanctions against Russia on Monday, banning imports of Russian aluminium "
  "and adding dozens of vessels to a blacklist. EU foreign policy chief Kaja Kallas said in Brussels that the measures "
  "would raise the cost of the war in Ukraine for the Kremlin."),
 ("sample-04-airstrike", "Conflict Monitor", "Air strikes hit Kharkiv overnight",
  "2025-05-08T06:45:00Z",
  "Russian forces launched drone and missile strikes on Kharkiv overnight, killing three civilians and damaging a power plant, "
  "Ukrainian officials said on Thursday. Kharkiv mayor Ihor Terekhov said rescue teams were still searching the rubble. "
  "Ukraine's air force said it had shot down most of the drones."),
 ("sample-05-aid", "Relief Report", "Japan pledges earthquake aid to Myanmar",
  "2025-04-02T09:15:00Z",
  "Japan will send emergency aid worth 6 million dollars to Myanmar after last week's earthquake, the Japanese foreign ministry "
  "said on Wednesday. The package includes tents, water purifiers and a medical team that will work with the Red Cross in Mandalay."),
 ("sample-06-accuse", "Asia Desk", "Manila accuses Beijing of ramming supply boat",
  "2024-08-19T10:20:00Z",
  "The Philippines accused China on Monday of deliberately ramming a Philippine coast guard vessel near the Spratly Islands. "
  "Philippine National Security Council spokesman Jonathan Malaya said the Chinese coast guard had acted dangerously. "
  "China's foreign ministry rejected the accusation and said the Philippine ship had entered Chinese waters."),
 ("sample-07-arrest", "Justice Desk", "Police arrest opposition figures in Tbilisi",
  "2024-12-05T19:00:00Z",
  "Georgian police arrested several opposition leaders in Tbilisi on Wednesday after a week of protests against the government's "
  "decision to suspend talks on joining the European Union. Interior ministry officials said the detainees were suspected of "
  "organising violence."),
 ("sample-08-football", "Sports Desk", "Late goal sends Arsenal top of the league",
  "2025-01-18T21:30:00Z",
  "A stoppage-time header from defender William Saliba gave Arsenal a 2-1 win over Aston Villa on Saturday and sent the London "
  "club to the top of the Premier League. Manager Mikel Arteta praised his players for their patience. Villa remain sixth."),
 ("sample-09-film", "Arts Desk", "Animated film wins top prize at Annecy festival",
  "2024-06-15T18:00:00Z",
  "An animated feature about a lonely robot won the top prize at the Annecy International Animation Film Festival on Saturday. "
  "The director thanked her team of animators and said the film took six years to make. It opens in cinemas in October."),
 ("sample-10-earnings", "Business Desk", "Chipmaker profit beats forecasts",
  "2025-02-20T22:10:00Z",
  "Shares in chipmaker Nvidia rose in after-hours trading after the company reported quarterly revenue of 39 billion dollars, "
  "ahead of analysts' forecasts. Chief executive Jensen Huang said demand for its data-centre chips remained strong."),
 ("sample-11-military-exercise", "Defence Desk", "China holds military drills around Taiwan",
  "2025-04-01T07:00:00Z",
  "China's military began large-scale drills around Taiwan on Tuesday, deploying warships and fighter jets in what it called a "
  "stern warning to separatist forces. Taiwan's defence ministry said it had put its forces on alert and was monitoring the situation."),
 ("sample-12-agreement", "Trade Desk", "India and Britain agree trade deal",
  "2025-05-06T16:00:00Z",
  "India and Britain agreed a free trade deal on Tuesday after three years of negotiations, Prime Minister Keir Starmer said in London. "
  "Indian Prime Minister Narendra Modi called the agreement a historic milestone and said the two countries would sign it within months."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    args = parser.parse_args()
    require(args.shared, SEED_TXT)
    seed = args.shared / SEED_TXT
    lines = seed.read_text(encoding="utf-8").strip().splitlines()
    records = [{
        "id": "seed-000-10c24450e8870a78",
        "source": "teleSUR/EFE",
        "title": lines[0].strip(),
        "body": "\n".join(lines[1:]).strip(),
        "published_at": "2025-06-04T09:21:00-04:00",
        "language": "en",
    }]
    for article_id, source, title, published_at, body in SAMPLES:
        records.append({"id": article_id, "source": source, "title": title, "body": body,
                        "published_at": published_at, "language": "en"})
    out = ROOT / "seeds" / "articles.jsonl"
    out.parent.mkdir(exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} articles to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
