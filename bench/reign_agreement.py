"""Agreement of guji's reign-era table (guji/metadata/data/reign_eras.tsv) with the DILA time authority.

    .venv/bin/python bench/reign_agreement.py [PATH/TO/dila_time_chinese.sqlite]

For every era in our table, finds the DILA era(s) with the same name (folded with OpenCC t2s, so
啓/啟 variants match) in the same dynasty, merges DILA rows split at an emperor change, and
compares first year (元年, Western year in which the era's first Chinese year begins) and the highest
year number in use; also lists DILA eras (漢 … 民國) missing from our table. Eras the table marks as a
deliberate difference (source DILA+guji or guji, with a note) are listed with the reason and not
counted. Exit 0 only when every kept era is identical and none is missing; the test asserts that.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

DEFAULT_DB = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dila" / "dila_time_chinese.sqlite"
# the calendar conversion and the dynasties' last years are the generator's own
# (scripts/build_eras.py), so the benchmark checks the table against DILA by the same rules
import importlib.util as _ilu  # noqa: E402

_spec = _ilu.spec_from_file_location("build_eras", Path(__file__).resolve().parents[1] / "scripts" / "build_eras.py")
_gen = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_gen)
DYNASTY_END = _gen.DYNASTY_END
jd_to_year_month_day = _gen.jd_to_year_month_day


def dila_segments(db: Path) -> list[dict]:
    """One entry per DILA era row: dynasty, name, offset (western year of nominal year n = offset + n),
    and months counted per nominal year (an era is split into rows when the emperor changes mid-era)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = con.execute(
            """select e.id, dn.name, en.name from t_era e
               join t_emperor em on em.id = e.emperor_id
               join t_dynasty_names dn on dn.dynasty_id = em.dynasty_id and dn.ranking = 0
               join t_era_names en on en.era_id = e.id and en.ranking = 0""").fetchall()
        months: dict[int, list[tuple[int, int, int]]] = {}
        for era_id, year, month, first in con.execute("select era_id, year, month, first from t_month"):
            months.setdefault(era_id, []).append((int(year), int(month), int(first)))
    finally:
        con.close()
    out = []
    for era_id, dyn, name in names:
        ms = months.get(era_id)
        if not ms:
            continue
        # 正月 begins between late January and late February: (first day of month m - (m-1) lunar months
        # + 20 days) falls in the Western year of the nominal year even across a leap month or in a row
        # that holds only the last months of an era; the most common answer over the row's months wins
        votes: dict[int, int] = {}
        for y, m, f in ms:
            o = jd_to_year_month_day(int(f - (m - 1) * 29.53 + 20))[0] - y
            votes[o] = votes.get(o, 0) + 1
        offset = max(sorted(votes), key=lambda o: votes[o])
        per_year: dict[int, int] = {}
        for y, _m, _f in ms:
            per_year[y] = per_year.get(y, 0) + 1
        out.append({"id": era_id, "dynasty": dyn, "name": name, "offset": offset, "months": per_year})
    return out


def dila_span(segs: list[dict], dynasty_end: int | None) -> tuple[int, int]:
    """(first western year, number of nominal years) of an era from its DILA rows.

    The number of years is the highest year number in use (an era renamed in the first month of a
    year still has that year); usage after the dynasty ended (崇禎 kept in Korea, 至正 by the
    Northern Yuan) is not counted. Compared with our table's ``max_year``."""
    months: dict[int, int] = {}
    for s in segs:
        for y, n in s["months"].items():
            months[y] = months.get(y, 0) + n
    offset = segs[0]["offset"]
    first_n = min(months)
    last_n = max(months)
    if dynasty_end is not None:
        last_n = min(last_n, dynasty_end - offset)
    return offset + first_n, last_n - first_n + 1


def compare(db: Path = DEFAULT_DB) -> dict:
    """Every era of our table against DILA; every DILA era (漢 … 民國) looked up in our table."""
    from guji.metadata.eras import load_eras

    segs_by_name: dict[str, list[dict]] = {}
    for s in dila_segments(db):
        if s["name"].startswith("（") or s["dynasty"] == "日本":
            continue
        segs_by_name.setdefault(s["name"], []).append(s)
    notes = _table_notes()
    results = []
    for era in load_eras():
        cands = segs_by_name.get(era.name, [])
        best = None
        if cands:
            # rows of one era share a year offset (split at an emperor change, or 蒙古/元 sharing 至元);
            # a homonym used at another time has another
            off = min({s["offset"] for s in cands}, key=lambda o: abs(o + 1 - era.first_year))
            same = [s for s in cands if s["offset"] == off]
            dyn = max(sorted({s["dynasty"] for s in same}),
                      key=lambda d: sum(sum(s["months"].values()) for s in same if s["dynasty"] == d))
            best = dila_span(same, DYNASTY_END.get(dyn))
        source, note = notes.get((era.dynasty, era.name, era.first_year), ("DILA", ""))
        ours = (era.first_year, era.max_year)
        if best == ours:
            status = "exact"
        elif source != "DILA" and note:
            status = "deliberate"
        else:
            status = "missing" if best is None else "differs"
        results.append({"dynasty": era.dynasty, "era": era.name, "ours": ours, "dila": best, "status": status,
                        "note": note})
    ours_keys = {(e.name, e.first_year) for e in load_eras()}
    deliberate_names = {r["era"] for r in results if r["status"] == "deliberate"}
    uncovered = []
    for name, segs in segs_by_name.items():
        for off in sorted({s["offset"] for s in segs}):
            same = [s for s in segs if s["offset"] == off]
            first = off + min(min(s["months"]) for s in same)
            if (name, first) not in ours_keys and name not in deliberate_names:
                uncovered.append({"dynasty": same[0]["dynasty"], "era": name, "dila_first_year": first})
    kept = [r for r in results if r["status"] != "deliberate"]
    exact = sum(r["status"] == "exact" for r in kept)
    return {
        "eras": len(results), "kept": len(kept), "exact": exact,
        "agreement": exact / len(kept) if kept else 0.0,
        "deliberate": [r for r in results if r["status"] == "deliberate"],
        "disagreements": [r for r in kept if r["status"] != "exact"],
        "dila_not_in_table": uncovered,
        "dynasties": sorted({e.dynasty for e in load_eras()}),
    }


def _table_notes() -> dict[tuple[str, str, int], tuple[str, str]]:
    from importlib import resources

    text = resources.files("guji.metadata").joinpath("data/reign_eras.tsv").read_text("utf-8")
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or line.startswith("dynasty\t") or not line.strip():
            continue
        c = line.split("\t")
        out[(c[0], c[1], int(c[2]))] = (c[6] if len(c) > 6 else "DILA", c[7] if len(c) > 7 else "")
    return out


def main(argv: list[str]) -> int:
    db = Path(argv[1]) if len(argv) > 1 else DEFAULT_DB
    if not db.exists():
        print(f"DILA database not found: {db}", file=sys.stderr)
        return 2
    r = compare(db)
    for d in r["disagreements"]:
        print(f"  {d['status']:8s} {d['dynasty']} {d['era']}: ours {d['ours']} (first year, highest year number), "
              f"DILA {d['dila']}")
    for d in r["deliberate"]:
        print(f"  deliberate {d['dynasty']} {d['era']}: ours {d['ours']}, DILA {d['dila']} — {d['note']}")
    for d in r["dila_not_in_table"]:
        print(f"  not in our table: DILA {d['dynasty']} {d['era']} ({d['dila_first_year']})")
    print(f"eras in our table: {r['eras']} in {len(r['dynasties'])} dynasties; kept as DILA has them: {r['kept']}, "
          f"identical: {r['exact']} ({100 * r['agreement']:.1f}%); deliberate differences: {len(r['deliberate'])}; "
          f"DILA eras missing from the table: {len(r['dila_not_in_table'])}")
    return 0 if r["exact"] == r["kept"] and not r["dila_not_in_table"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
