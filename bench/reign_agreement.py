"""Agreement of guji's reign-era table (guji/metadata/data/reign_eras.tsv) with the DILA time authority.

    .venv/bin/python bench/reign_agreement.py [PATH/TO/dila_time_chinese.sqlite]

For every era in our table, finds the DILA era(s) with the same name (folded with OpenCC t2s, so
啓/啟 variants match) in the same dynasty, merges DILA rows split at an emperor change, and
compares first year (元年, Western year in which the era's first Chinese year begins) and the number
of nominal years. Prints each disagreement and the overall agreement; the test asserts all Ming and
Qing eras agree exactly.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

DEFAULT_DB = Path(__file__).resolve().parents[2] / "shared" / "reference" / "dila" / "dila_time_chinese.sqlite"

# our dynasty -> DILA dynasty names that count as the same
DYNASTY_ALIASES = {
    "唐": {"唐"}, "北宋": {"北宋", "宋"}, "南宋": {"南宋", "宋"}, "金": {"金"}, "元": {"元", "蒙古"},
    "明": {"明"}, "南明": {"南明", "明"}, "後金": {"後金", "清"}, "清": {"清"}, "民國": {"中華民國", "民國"},
}
MING_QING = {"明", "南明", "後金", "清"}


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
        # 正月 (month 1) always begins inside its western year: it fixes the year offset
        zheng = sorted((y, f) for y, m, f in ms if m == 1)
        if zheng:
            y, f = zheng[0]
            offset = jd_to_year_month_day(f)[0] - y
        else:
            y, _m, f = min(ms, key=lambda t: t[2])
            offset = jd_to_year_month_day(f)[0] - y
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
    from guji.metadata.eras import DYNASTY_SPANS, load_eras
    from guji.metadata.sheet import fold

    segs_by_name: dict[str, list[dict]] = {}
    for s in dila_segments(db):
        segs_by_name.setdefault(fold(s["name"]), []).append(s)
    results = []
    for era in load_eras():
        dyns = {fold(d) for d in DYNASTY_ALIASES.get(era.dynasty, {era.dynasty})}
        cands = [s for s in segs_by_name.get(fold(era.name), []) if fold(s["dynasty"]) in dyns]
        best = None
        if cands:
            # rows of the same era share one year offset; an era name reused later has another
            off = min({s["offset"] for s in cands}, key=lambda o: abs(o + 1 - era.first_year))
            same = [s for s in cands if s["offset"] == off]
            best = dila_span(same, DYNASTY_SPANS.get(era.dynasty, (None, None))[1])
        status = "missing" if best is None else ("exact" if best == (era.first_year, era.max_year) else "differs")
        results.append({"dynasty": era.dynasty, "era": era.name, "ours": (era.first_year, era.max_year),
                        "dila": best, "status": status})
    mq = [r for r in results if r["dynasty"] in MING_QING]
    exact = sum(r["status"] == "exact" for r in results)
    return {
        "eras": len(results), "exact": exact, "agreement": exact / len(results) if results else 0.0,
        "ming_qing": len(mq), "ming_qing_exact": sum(r["status"] == "exact" for r in mq),
        "disagreements": [r for r in results if r["status"] != "exact"],
    }


def main(argv: list[str]) -> int:
    db = Path(argv[1]) if len(argv) > 1 else DEFAULT_DB
    if not db.exists():
        print(f"DILA database not found: {db}", file=sys.stderr)
        return 2
    r = compare(db)
    for d in r["disagreements"]:
        print(f"  {d['status']:8s} {d['dynasty']} {d['era']}: ours {d['ours']} (first year, highest year number), DILA {d['dila']}")
    print(f"eras in our table: {r['eras']}; exact agreement with DILA: {r['exact']} "
          f"({100 * r['agreement']:.1f}%)")
    print(f"Ming/Qing (incl. 南明, 後金): {r['ming_qing_exact']}/{r['ming_qing']} exact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
