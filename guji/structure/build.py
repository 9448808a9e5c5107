"""One item's structure from its canvases' centre-column readings: decoded labels, page labels,
juan ranges, findings (missing / misordered / duplicated leaves, structure.csv and census record
disagreements). Pure functions over plain data; :mod:`guji.structure.stage` feeds them files."""

from __future__ import annotations

import re
from typing import Any, Callable

from guji import numerals
from guji.errors import Problem
from guji.structure.centre import JuanLabel, LeafNo, read_centre
from guji.structure.model import CanvasStructure, ItemStructure, JuanRange
from guji.structure.sequence import Obs, analyse, decode, juan_key

STAGE = "structure"


def page_label(juan: JuanLabel | None, leaf: LeafNo | None, half: str = "") -> dict[str, list[str]] | None:
    """卷一 葉三 (前半葉 / 後半葉 when ``half`` is ``a`` / ``b``) as a zh-Hant, zh-Hans, en map."""
    if leaf is None:
        return None
    hant = ([juan.label("zh-Hant")] if juan else []) + [f"葉{leaf.label()}"]
    hans = ([juan.label("zh-Hans")] if juan else []) + [f"叶{leaf.label()}"]
    en = ([juan.english()] if juan else []) + [f"leaf {leaf.number}{_suffix_en(leaf)}{half}"]
    if half:
        hant.append("前半葉" if half == "a" else "後半葉")
        hans.append("前半叶" if half == "a" else "后半叶")
    return {"zh-Hant": [" ".join(hant)], "zh-Hans": [" ".join(hans)], "en": [", ".join(en)]}


def _suffix_en(leaf: LeafNo) -> str:
    if leaf.suffix == "又":
        return f" (added{' ' + str(leaf.extra) if leaf.extra else ''})"
    return {"上": " (upper)", "中": " (middle)", "下": " (lower)"}.get(leaf.suffix, "")


def _name(o: Obs) -> str:
    return o.file or o.canvas


def _lab(juan: JuanLabel | None, leaf: LeafNo) -> str:
    return (juan.label() + " " if juan else "") + "葉" + leaf.label()


def item_structure(item_id: str, obs: list[Obs], similar: Callable[[int, int], bool | None], *,
                   structure_rows: list[dict[str, Any]] | None = None, record: dict[str, str] | None = None,
                   n_volumes: int = 0) -> ItemStructure:
    """Decode, analyse and describe one item (see the module doc)."""
    dec = decode(obs, similar)
    an = analyse(obs, dec.labels, similar)
    out = ItemStructure(item=item_id)
    status = ["ok" if lab is not None else "not-a-leaf" for lab in dec.labels]
    probs: list[Problem] = []

    def where(i: int) -> dict[str, Any]:
        return {"path": obs[i].file, "item": item_id, "page": obs[i].page}

    for d in an["duplicates"]:
        i, j = d["index"], d["original"]
        status[i] = "duplicate"
        juan, leaf = d["label"]
        if d["similar"] is False:
            probs.append(Problem(
                "warning", "leaf-number-repeated",
                f"{_lab(juan, leaf)} 重出：{_name(obs[i])} 與 {_name(obs[j])} 版心同號而圖像不同，請核對 "
                f"(leaf number read twice on different-looking pages: check the reading or the binding)",
                **where(i), stage=STAGE,
                extra={"kind": "repeated-number", "files": [obs[j].file, obs[i].file],
                       "canvases": [obs[j].canvas, obs[i].canvas], "juan": juan.label() if juan else None,
                       "leaf": leaf.number}))
        else:
            probs.append(Problem(
                "warning", "leaf-duplicated",
                f"重葉 {_lab(juan, leaf)}：{_name(obs[i])} 重複 {_name(obs[j])}"
                f"{'（圖像相同，重拍）' if d['similar'] else ''} (duplicated leaf: the same leaf captured twice"
                f"{', images agree' if d['similar'] else ''})",
                **where(i), stage=STAGE,
                extra={"kind": "duplicate", "files": [obs[j].file, obs[i].file],
                       "canvases": [obs[j].canvas, obs[i].canvas], "juan": juan.label() if juan else None,
                       "leaf": leaf.number, "images_agree": d["similar"]}))
    for m in an["misordered"]:
        i = m["index"]
        status[i] = "misordered"
        juan, leaf = m["label"]
        after, before = m["after"], m["before"]
        pos = []
        if after is not None:
            pos.append(f"應在 {_name(obs[after])}（{_lab(*dec.labels[after])}）之後")
        if before is not None:
            pos.append(f"{_name(obs[before])}（{_lab(*dec.labels[before])}）之前")
        files = [obs[i].file]
        # an exchanged pair: the canvas it should follow/precede sits right next to it
        partner = None
        for nb in (after, before):
            if nb is not None and abs(nb - i) == 1:
                partner = nb
        if partner is not None:
            files.append(obs[partner].file)
        probs.append(Problem(
            "warning", "leaf-misordered",
            f"錯葉 {_lab(juan, leaf)}：{_name(obs[i])} 次序錯，{'，'.join(pos) or '位置不明'}"
            + (f"（與 {_name(obs[partner])} 對調）" if partner is not None else "")
            + " (misordered leaf: captured out of sequence)",
            **where(i), stage=STAGE,
            extra={"kind": "misordered", "files": files, "canvases": [obs[i].canvas],
                   "juan": juan.label() if juan else None, "leaf": leaf.number,
                   "belongs_after": obs[after].file if after is not None else None,
                   "belongs_before": obs[before].file if before is not None else None,
                   "swapped_with": obs[partner].file if partner is not None else None}))
    for jr in an["juans"]:
        juan = jr["juan"]
        for g in jr["missing"]:
            span = (f"葉{numerals.to_chinese(g['from'])}" if g["from"] == g["to"]
                    else f"葉{numerals.to_chinese(g['from'])}至{numerals.to_chinese(g['to'])}")
            a, b = g["after"], g["before"]
            near = [f"{_name(obs[a])} 之後" if a is not None else "", f"{_name(obs[b])} 之前" if b is not None else ""]
            anchor = b if b is not None else a
            probs.append(Problem(
                "warning", "leaf-missing",
                f"闕葉 {(juan.label() + ' ') if juan else ''}{span}（{'、'.join(x for x in near if x)}）"
                f" (missing leaves {g['from']}–{g['to']})",
                path=obs[anchor].file, item=item_id, page=obs[anchor].page, stage=STAGE,
                extra={"kind": "missing", "juan": juan.label() if juan else None,
                       "leaves": list(range(g["from"], g["to"] + 1)),
                       "after": obs[a].file if a is not None else None,
                       "before": obs[b].file if b is not None else None,
                       "files": [obs[x].file for x in (a, b) if x is not None]}))
    # canvases
    for i, o in enumerate(obs):
        lab = dec.labels[i]
        cs = CanvasStructure(canvas=o.canvas, page=o.page, volume=o.volume, file=o.file, text=o.centre_text,
                             status=status[i])
        if lab is not None:
            juan, leaf = lab
            cs.juan = juan.to_dict() if juan else None
            cs.leaf = leaf.to_dict()
            # read: the OCR itself (not the sequence) gave this label, without overriding anything
            cs.read = any(r.leaf == leaf and r.juan == juan and r.cost < 0.5 for r in o.readings)
            cs.label = page_label(juan, leaf)
        out.canvases.append(cs)
    for jr in an["juans"]:
        juan = jr["juan"]
        if juan is None:
            continue
        ids = [obs[i].canvas for i in jr["canvases"]]
        vols = list(dict.fromkeys(obs[i].volume for i in jr["canvases"]))
        out.juans.append(JuanRange(
            juan=juan.to_dict(), label={"zh-Hant": [juan.label("zh-Hant")], "zh-Hans": [juan.label("zh-Hans")],
                                        "en": [juan.english()]},
            canvases=ids, start=obs[jr["start"]].canvas, end=obs[jr["end"]].canvas, volumes=vols,
            leaves=jr["leaf_numbers"], missing=[n for g in jr["missing"] for n in range(g["from"], g["to"] + 1)]))
    if structure_rows:
        out.source = "structure.csv"
        probs += compare_structure_csv(item_id, out, structure_rows, obs)
    if record:
        out.census, more = census_check(item_id, out, record, n_volumes)
        probs += more
    out.problems = probs
    return out


def compare_structure_csv(item_id: str, st: ItemStructure, rows: list[dict[str, Any]], obs: list[Obs]) -> list[Problem]:
    """structure.csv juan starts vs the juan the centre column shows: disagreements are findings."""
    probs = []
    by_label = {j.juan["label"]: j for j in st.juans}
    page_file = {o.page: o.file for o in obs}
    seen = set()
    path = f"{item_id}/structure.csv"
    for n, row in enumerate(rows, start=2):
        rd = read_centre([str(row["label"])])
        jl = next((r.juan for r in rd if r.juan is not None), None)
        if jl is None:
            continue
        lab = jl.label()
        seen.add(lab)
        mine = by_label.get(lab)
        if mine is None:
            probs.append(Problem("warning", "structure-csv-juan-not-seen",
                                 f"structure.csv 第{n}行 {row['label']}：版心未見此卷 (the centre column shows no such juan)",
                                 path=path, item=item_id, row=n, field="juan", stage=STAGE))
            continue
        start_page = next((c.page for c in st.canvases if c.canvas == mine.start), None)
        if start_page != row["start_page"]:
            probs.append(Problem(
                "warning", "structure-csv-disagrees",
                f"structure.csv 第{n}行 {lab} 起於 {page_file.get(row['start_page'], row['start_page'])}，"
                f"版心顯示起於 {page_file.get(start_page or '', start_page)} "
                f"(structure.csv and the centre column disagree on where the juan starts)",
                path=path, item=item_id, row=n, field="file", stage=STAGE,
                extra={"juan": lab, "csv_start": page_file.get(row["start_page"], row["start_page"]),
                       "centre_start": page_file.get(start_page or "", start_page)}))
    for lab, j in by_label.items():
        if lab not in seen:
            probs.append(Problem("warning", "structure-csv-juan-missing",
                                 f"版心顯示 {lab}（起於 {j.start}），structure.csv 未列 (juan not in structure.csv)",
                                 path=path, item=item_id, field="juan", stage=STAGE,
                                 extra={"juan": lab, "centre_start": j.start}))
    return probs


# -- census record cross-check (存卷, 卷數, 册数, complete books lacking leaves) ----------------------

_N = numerals.NUMERAL_CHARS + "0-9"


def _get(record: dict[str, str], *names: str) -> str:
    from guji.textfold import convert

    folded = {convert("t2s", str(k)).strip(): str(v or "").strip() for k, v in record.items()}
    for n in names:
        if folded.get(n):
            return folded[n]
    return ""


def parse_census(record: dict[str, str]) -> dict[str, Any]:
    """Juan total (题名卷数), extant juan (存卷) and volume count (册数) from the raw census row."""
    out: dict[str, Any] = {}
    title = _get(record, "题名卷数")
    m = re.search(rf"([{_N}]+)卷", title)
    if m:
        out["juan_total"] = numerals.parse(m.group(1))
    extant = _get(record, "存卷")
    if extant:
        out["extant_text"] = extant
        nums: set[int] = set()
        parts: set[str] = set()
        inner = re.findall(r"[（(]([^）)]*)[）)]", extant) or [re.sub(r"^存", "", extant)]
        for seg in inner:
            seg = seg.replace("卷", "")
            for piece in re.split(r"[、，,;；及和]", seg):
                r = re.fullmatch(rf"([{_N}]+)[至到\-—–~～]([{_N}]+)", piece.strip())
                if r and numerals.parse(r.group(1)) is not None and numerals.parse(r.group(2)) is not None:
                    nums.update(range(numerals.parse(r.group(1)), numerals.parse(r.group(2)) + 1))
                elif piece.strip() in ("上", "中", "下"):
                    parts.add(piece.strip())
                elif numerals.parse(piece.strip()) is not None and "卷" not in piece:
                    nums.add(numerals.parse(piece.strip()))
        m = re.search(rf"存([{_N}]+)卷", extant)
        if m:
            out["extant_count"] = numerals.parse(m.group(1))
        if nums:
            out["extant_juan"] = sorted(nums)
        if parts:
            out["extant_parts"] = sorted(parts, key="上中下".index)
    vols = _get(record, "册数")
    m = re.search(rf"([{_N}]+)\s*[册冊]", vols)
    if m:
        out["volumes"] = numerals.parse(m.group(1))
    return out


def census_check(item_id: str, st: ItemStructure, record: dict[str, str], n_volumes: int) -> tuple[dict, list[Problem]]:
    cen = parse_census(record)
    probs: list[Problem] = []
    juans = [JuanLabel.from_dict(j.juan) for j in st.juans]
    nums = sorted(j.number for j in juans if j.kind == "number" and j.number is not None and not j.part)
    parts = sorted({j.part for j in juans if j.kind == "number" and j.number is None and j.part}, key="上中下".index)
    cen["centre_juan"] = nums
    cen["centre_parts"] = parts
    cen["scanned_volumes"] = n_volumes
    missing_leaves = sum(len(j.missing) for j in st.juans)

    def add(code: str, fieldname: str, msg: str, **extra: Any) -> None:
        probs.append(Problem("warning", code, msg, item=item_id, field=fieldname, stage=STAGE, extra=extra))

    if cen.get("extant_juan") and nums and nums != cen["extant_juan"]:
        add("census-extant-vs-centre", "存卷",
            f"存卷 {cen['extant_text']} 與版心所見卷次 {nums} 不符 (extant juan in the record differ from the juan "
            "the centre column shows)", extant=cen["extant_juan"], centre=nums)
    if cen.get("extant_parts") and parts and parts != cen["extant_parts"]:
        add("census-extant-vs-centre", "存卷",
            f"存卷 {cen['extant_text']} 與版心所見 {''.join('卷' + p for p in parts)} 不符", extant=cen["extant_parts"],
            centre=parts)
    if cen.get("extant_count") and (nums or parts) and len(nums) + len(parts) != cen["extant_count"] \
            and not cen.get("extant_juan"):
        add("census-extant-vs-centre", "存卷",
            f"存卷 {cen['extant_text']} 記{cen['extant_count']}卷，版心見{len(nums) + len(parts)}卷",
            extant_count=cen["extant_count"], centre=len(nums) + len(parts))
    total = cen.get("juan_total")
    if total and nums and max(nums) > total:
        add("census-total-vs-centre", "题名卷数",
            f"题名卷数 記{total}卷，版心見卷{numerals.to_chinese(max(nums))} (the centre column shows a juan beyond "
            "the recorded total)", juan_total=total, centre=nums)
    complete = not cen.get("extant_text")
    if complete and total and nums and len(nums) < total:
        add("census-complete-lacks-juan", "存卷",
            f"著錄為全本（無存卷），题名卷数 {total}卷，版心只見 {len(nums)} 卷 (the record describes the book as "
            "complete, the centre column shows fewer juan)", juan_total=total, centre=nums)
    if complete and missing_leaves:
        add("census-complete-lacks-leaves", "存卷",
            f"著錄為全本（無存卷），版心顯示闕{missing_leaves}葉 (the record describes the book as complete but "
            "leaves are missing)", missing=missing_leaves)
    if cen.get("volumes") and n_volumes and cen["volumes"] != n_volumes:
        add("census-volumes-vs-scanned", "册数",
            f"册数 記{cen['volumes']}册，掃描{n_volumes}册 (volumes in the record vs volumes scanned)",
            record=cen["volumes"], scanned=n_volumes)
    return cen, probs


__all__ = ["item_structure", "page_label", "parse_census", "census_check", "compare_structure_csv", "juan_key"]
