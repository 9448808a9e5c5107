"""Generate guji's reign-era table ``guji/metadata/data/reign_eras.tsv`` from the DILA time authority.

    .venv/bin/python scripts/build_eras.py [PATH/TO/dila_time_chinese.sqlite] [--out PATH]

Every era (年号) of DILA's Chinese dynasties from 漢 to 民國 (秦 and earlier have none), including
遼, 金, 西夏, 蒙古, the Sixteen Kingdoms, 南北朝, 武周, 五代十國, 南明 and 後金; plus the few eras
DILA lacks or cuts short, typed here with the reason (``EXTRA`` / ``OVERRIDES``).

The output is an adaptation of the DILA Authority Database (Time), licensed CC BY-SA 3.0: the
generated file carries the attribution and is itself CC BY-SA 3.0 (guji/metadata/data/README.md).
Run it again when DILA changes; ``bench/reign_agreement.py`` checks the committed table against
DILA era by era.

How an era is read from DILA (``t_month``: one row per lunar month with the nominal year number
and the Julian day of its first day):
- DILA splits an era into several rows when the emperor changes mid-era (and 蒙古/元 share 至元,
  後金/清 share 天命): rows of one name whose year numbers map to the same Western year are merged.
- first_year: the Western (Julian/Gregorian) year in which 正月 of nominal year 1 begins;
  the Western year of nominal year n is first_year + n - 1. Years before 1 CE are astronomical
  (0 = 1 BCE).
- max_year: the highest nominal year DILA has (a stub year renamed in its first months counts);
  years: max_year, minus that stub year when another era of the dynasty starts in it.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DB = REPO.parent / "shared" / "reference" / "dila" / "dila_time_chinese.sqlite"
OUT = REPO / "guji" / "metadata" / "data" / "reign_eras.tsv"

EXCLUDED_DYNASTIES = {"日本"}  # DILA's "chinese" type also lists Japan (no eras there)

# a dynasty's last year: DILA goes on counting some eras after the dynasty fell (崇禎 in Korea to
# the 19th century, 至正 by the Northern Yuan, 建興 by 前涼); those later years are not the dynasty's
DYNASTY_END = {"西晉": 316, "元": 1368, "明": 1644}

# (dynasty, era, first_year) -> (field, value, reason): deliberate differences from DILA
OVERRIDES: dict[tuple[str, str, int], tuple[dict, str]] = {
    ("明", "洪武", 1368): ({"years": 31},
                          "standard tables end 洪武 with its 31st year (1398); 洪武三十二至三十五年 (1399–1402, "
                          "永樂's count erasing 建文) stay valid year numbers (max_year 35, as in DILA)"),
    ("元", "泰定", 1324): ({"max_year": 5, "years": 4},
                          "泰定五年 (1328): 致和 was proclaimed in the second month of 1328; DILA starts 致和 at "
                          "the first month and has no 泰定五年"),
    ("民國", "民國", 1911): ({"first_year": 1912, "years": 38, "max_year": 38},
                           "民國 counts Gregorian years from 1912-01-01 to 三十八年 (1949); DILA has only its first two "
                           "lunar months (the 11th and 12th of 辛亥), which puts 元年 in 1911 by the lunar rule"),
}
# aliases catalogues use for an era (name, dynasty, first_year) -> extra names
ALIASES: dict[tuple[str, str, int], list[str]] = {
    ("元", "至元", 1335): ["後至元"],  # DILA names both 元 eras 至元; catalogues write 後至元 for the second
}
# eras DILA does not have
EXTRA: list[tuple[str, str, int, int, int, str]] = [
    ("太平天國", "太平天國", 1851, 14, 14,
     "not in DILA: 太平天國 dated by its own 天曆 as 太平天國辛開元年 (1851) … 甲子十四年 (1864)"),
]


def jd_to_year_month_day(jd: int) -> tuple[int, int, int]:
    """Julian day number (noon) -> (year, month, day): Julian calendar before 1582-10-15, Gregorian after."""
    z = int(jd)
    if z < 2299161:
        a = z
    else:
        alpha = int((z - 1867216.25) / 36524.25)
        a = z + 1 + alpha - alpha // 4
    b = a + 1524
    c = int((b - 122.1) / 365.25)
    d = int(365.25 * c)
    e = int((b - d) / 30.6001)
    day = b - d - int(30.6001 * e)
    month = e - 1 if e < 14 else e - 13
    year = c - 4716 if month > 2 else c - 4715
    return year, month, day


def jd_year(jd: int) -> int:
    """Western year of a Julian day number."""
    return jd_to_year_month_day(jd)[0]


def read_dila(db: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            """select e.id, dn.name, en.name from t_era e
               join t_emperor em on em.id = e.emperor_id
               join t_dynasty d on d.id = em.dynasty_id and d.type = 'chinese'
               join t_dynasty_names dn on dn.dynasty_id = em.dynasty_id and dn.ranking = 0
               join t_era_names en on en.era_id = e.id and en.ranking = 0""").fetchall()
        alt: dict[int, list[str]] = {}
        for era_id, name in con.execute("select era_id, name from t_era_names where ranking > 0 and language_id = 1"):
            alt.setdefault(int(era_id), []).append(name)
        months: dict[int, list[tuple[int, int, int]]] = {}
        for era_id, year, month, first in con.execute("select era_id, year, month, first from t_month"):
            months.setdefault(int(era_id), []).append((int(year), int(month), int(first)))
    finally:
        con.close()
    segs = []
    for era_id, dyn, name in rows:
        ms = months.get(int(era_id))
        if not ms or name.startswith("（") or dyn in EXCLUDED_DYNASTIES:
            continue  # （無年號）, （後元）: reign years, not eras
        # Western year of nominal year n = offset + n, from the months of the row: 正月 begins between
        # late January and late February, so (first day - (m-1) lunar months + 20 days) falls in that
        # Western year even when a leap month intervened; the most common answer wins
        votes: dict[int, int] = {}
        for y, m, f in ms:
            o = jd_year(int(f - (m - 1) * 29.53 + 20)) - y
            votes[o] = votes.get(o, 0) + 1
        offset = max(sorted(votes), key=lambda o: votes[o])
        per_year: dict[int, int] = {}
        for yy, _m, _f in ms:
            per_year[yy] = per_year.get(yy, 0) + 1
        segs.append({"id": int(era_id), "dynasty": dyn, "name": name, "offset": offset, "months": per_year,
                     "alt": alt.get(int(era_id), [])})
    return segs


def build(db: Path) -> list[dict]:
    groups: dict[tuple[str, int], list[dict]] = {}
    for s in read_dila(db):
        groups.setdefault((s["name"], s["offset"]), []).append(s)
    eras = []
    for (name, offset), segs in groups.items():
        months: dict[int, int] = {}
        for s in segs:
            for y, n in s["months"].items():
                months[y] = months.get(y, 0) + n
        first_n, last_n = min(months), max(months)
        # the dynasty that holds most of the era's months names it (至元: 元, not 蒙古)
        by_dyn: dict[str, int] = {}
        for s in segs:
            by_dyn[s["dynasty"]] = by_dyn.get(s["dynasty"], 0) + sum(s["months"].values())
        dyn = max(sorted(by_dyn), key=lambda d: by_dyn[d])
        if dyn in DYNASTY_END:
            last_n = min(last_n, DYNASTY_END[dyn] - offset)
        alts = sorted({a for s in segs for a in s["alt"]} - {name})
        eras.append({"dynasty": dyn, "era": name, "first_year": offset + first_n, "max_year": last_n - first_n + 1,
                     "last_months": months[last_n], "alt": alts, "source": "DILA", "note": ""})
    starts: dict[str, set[int]] = {}
    for e in eras:
        starts.setdefault(e["dynasty"], set()).add(e["first_year"])
    for e in eras:
        last = e["first_year"] + e["max_year"] - 1
        stub = e["max_year"] > 1 and e["last_months"] <= 2 and last in starts[e["dynasty"]]
        e["years"] = e["max_year"] - (1 if stub else 0)
        key = (e["dynasty"], e["era"], e["first_year"])
        if key in OVERRIDES:
            vals, why = OVERRIDES[key]
            e.update(vals)
            e["source"], e["note"] = "DILA+guji", why
        e["alt"] = sorted(set(e["alt"]) | set(ALIASES.get(key, [])))
    for dyn, name, first, years, mx, why in EXTRA:
        eras.append({"dynasty": dyn, "era": name, "first_year": first, "years": years, "max_year": mx, "alt": [],
                     "source": "guji", "note": why})
    eras.sort(key=lambda e: (e["first_year"], e["dynasty"], e["era"]))
    return eras


HEADER = """\
# Reign eras (年号) of China from 漢 to 民國, one line per era. GENERATED by scripts/build_eras.py from
# the DILA Authority Database (Time), Dharma Drum Institute of Liberal Arts, CC BY-SA 3.0
# (https://authority.dila.edu.tw/): this table is an adaptation of it and is licensed CC BY-SA 3.0 too
# (see README.md beside it). Do not edit by hand: change the generator and run it again.
# first_year: Western year of 元年 (astronomical before 1 CE); max_year: highest year number in use;
# years: nominal years in the standard tables; alt: other names of the era (comma-separated);
# source: DILA, DILA+guji (a deliberate difference, note says why) or guji (not in DILA).
dynasty\tera\tfirst_year\tyears\tmax_year\talt\tsource\tnote
"""


def render(db: Path) -> str:
    eras = build(db)
    lines = [f"{e['dynasty']}\t{e['era']}\t{e['first_year']}\t{e['years']}\t{e['max_year']}\t{','.join(e['alt'])}\t"
             f"{e['source']}\t{e['note']}" for e in eras]
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """build_eras.py [DILA sqlite] [--out PATH] (default: the package's table)."""
    args = list(argv[1:])
    out = OUT
    if "--out" in args:
        i = args.index("--out")
        out = Path(args[i + 1])
        del args[i:i + 2]
    db = Path(args[0]) if args else DEFAULT_DB
    if not db.exists():
        print(f"DILA database not found: {db}", file=sys.stderr)
        return 2
    text = render(db)
    out.write_text(text, "utf-8")
    print(f"{text.count(chr(10)) - HEADER.count(chr(10))} eras written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
