"""Walk a batch folder into the data model (before images are inspected).

Structure problems found here (folders without records, mixed layouts, non-image files,
Unicode-normalisation twins, numbering gaps and duplicates, bad structure.csv rows) are
collected as :class:`~guji.errors.Problem`; nothing stops at the first one.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.iiif.uris import norm_id
from guji.ingest.images import IMAGE_EXTENSIONS
from guji.model import (ACCESS_PUBLIC, ACCESS_RESTRICTED, PROFILE_LOCAL_DOCUMENT, PROFILE_RARE_BOOK, Batch,
                        Item, Juan, Page, Volume)

IGNORED_NAMES = {"thumbs.db", "desktop.ini", "structure.csv", "batch.toml"}
SHEET_NAMES = ("records.csv", "records.xlsx", "records.tsv")
_NUM_RE = re.compile(r"(\d+)(?!.*\d)")


def natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("._") or name.lower() in {"thumbs.db", "desktop.ini"}


def rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def find_sheet(root: Path, config: dict[str, Any]) -> Path | None:
    name = config.get("batch", {}).get("sheet")
    if name:
        p = root / name
        return p if p.is_file() else None
    for n in SHEET_NAMES:
        if (root / n).is_file():
            return root / n
    return None


def page_number(stem: str) -> int | None:
    m = _NUM_RE.search(stem)
    return int(m.group(1)) if m else None


PROFILE_WORDS = {"古籍": PROFILE_RARE_BOOK, "善本": PROFILE_RARE_BOOK, "rare-book": PROFILE_RARE_BOOK,
                 "地方文献": PROFILE_LOCAL_DOCUMENT, "地方文獻": PROFILE_LOCAL_DOCUMENT,
                 "local-document": PROFILE_LOCAL_DOCUMENT, "民国文献": PROFILE_LOCAL_DOCUMENT,
                 "民國文獻": PROFILE_LOCAL_DOCUMENT}
ACCESS_WORDS = {"公开": ACCESS_PUBLIC, "公開": ACCESS_PUBLIC, "public": ACCESS_PUBLIC, "开放": ACCESS_PUBLIC,
                "開放": ACCESS_PUBLIC, "限制": ACCESS_RESTRICTED, "restricted": ACCESS_RESTRICTED,
                "内部": ACCESS_RESTRICTED, "內部": ACCESS_RESTRICTED, "不公开": ACCESS_RESTRICTED,
                "不公開": ACCESS_RESTRICTED}


def describe_twins(names: list[str]) -> str:
    """``'0006豈.jpg' (has U+F900), '0006豈.jpg' (has U+8C48)``: show what differs, not just glyphs."""
    parts = []
    for n in names:
        odd = [f"U+{ord(c):04X}" for c in n if unicodedata.normalize("NFC", c) != c or ord(c) > 0x7F]
        parts.append(f"'{n}' ({'has ' + ' '.join(dict.fromkeys(odd)) if odd else 'ASCII'})")
    return ", ".join(parts)


_UNSAFE_RE = re.compile(r"[^\w.\-]+")


def page_key(path: Path, used: set[str]) -> str:
    """The page's id within its volume: its file name without extension (``0003.tif`` → ``0003``).

    Taken from the file name, not the position, so a page inserted later does not renumber the
    pages after it (canvas URIs stay stable for citations and annotations). Characters other than
    letters, digits, ``.``, ``-`` and ``_`` become ``_``; a name already used in the volume (``0005.jpg``
    beside ``0005.tif``) keeps its extension.
    """
    key = _UNSAFE_RE.sub("_", norm_id(path.stem)).strip("._") or "page"
    if key in used:
        key = _UNSAFE_RE.sub("_", norm_id(path.name))
    n = 2
    base = key
    while key in used:
        key = f"{base}~{n}"
        n += 1
    used.add(key)
    return key


def _nfc_twins(names: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for n in names:
        groups[unicodedata.normalize("NFC", n)].append(n)
    return {k: v for k, v in groups.items() if len(v) > 1}


def scan_batch(root: Path, config: dict[str, Any], sheet_rows: list[Any], sheet_name: str | None,
               *, allow_gaps: bool = False) -> Batch:
    """Build the Batch model from the folder tree and the sheet rows (``SheetRow`` objects)."""
    bconf = config.get("batch", {})
    batch = Batch(id=str(bconf.get("id")), root=str(root.resolve()), config=config, sheet=sheet_name)
    default_profile = bconf.get("profile", PROFILE_RARE_BOOK)
    default_access = bconf.get("access", ACCESS_PUBLIC)

    # index sheet rows by census number and local id (NFC-normalised)
    by_key: dict[str, Any] = {}
    for r in sheet_rows:
        for f in ("普查编号", "本地编号"):
            v = norm_id((r.fields.get(f) or "").strip())
            if not v:
                continue
            if v in by_key and by_key[v] is not r:
                batch.problems.append(Problem("error", "duplicate-record-id",
                                              f"{f} {v} also on row {by_key[v].row}", path=sheet_name,
                                              row=r.row, field=f))
                continue
            by_key[v] = r
    matched_rows: set[int] = set()

    entries = sorted((p for p in root.iterdir() if not is_hidden(p.name)), key=lambda p: natural_key(p.name))
    top_names = [p.name for p in entries if p.is_dir()]
    twins = _nfc_twins(top_names)
    used_ids: set[str] = set()
    for twin_key, names in twins.items():
        batch.problems.append(Problem("error", "unicode-normalisation-twins",
                                      f"folder names {describe_twins(names)} differ only by Unicode normalisation",
                                      path=twin_key))
    for p in entries:
        if p.is_file() and p.name not in IGNORED_NAMES and p.name != sheet_name and p.name not in SHEET_NAMES:
            batch.problems.append(Problem("warning", "stray-file", "file at the batch top level is ignored",
                                          path=p.name))

    for folder in (p for p in entries if p.is_dir()):
        # ids are NFC (guji.iiif.uris.norm_id): an NFD folder name (macOS, some NAS exports) gives the
        # same item id, paths, URIs and keys as its NFC spelling; ``folder`` keeps the name on disk
        key = norm_id(folder.name)
        item_id = key
        while item_id in used_ids:  # NFC twins (reported above): both blocked, ids kept apart
            item_id = f"{key}~{len(used_ids)}"
        used_ids.add(item_id)
        item = Item(id=item_id, folder=rel(folder, root))
        if key in twins:
            item.problems.append(Problem("error", "unicode-normalisation-twins",
                                         f"folder names {describe_twins(twins[key])} differ only by Unicode "
                                         f"normalisation; rename one", path=item.folder, item=item.id))
        row = by_key.get(key)
        if row is None:
            item.problems.append(Problem("error", "no-record",
                                         f"no row in {sheet_name or 'the census sheet'} has 普查编号 or 本地编号 "
                                         f"'{folder.name}'", path=item.folder, item=item.id))
        else:
            matched_rows.add(row.row)
            item.record = dict(row.fields)
            item.record_row = row.row
            item.census_no = (row.fields.get("普查编号") or "").strip() or None
            ptxt = (row.fields.get("文献类型") or "").strip()
            item.profile = PROFILE_WORDS.get(ptxt, default_profile) if ptxt else default_profile
            if ptxt and ptxt not in PROFILE_WORDS:
                item.problems.append(Problem("warning", "unknown-document-type",
                                             f"文献类型 '{ptxt}' not known; using profile {item.profile}",
                                             path=sheet_name, item=item.id, row=row.row, field="文献类型"))
            atxt = (row.fields.get("访问级别") or "").strip()
            item.access = ACCESS_WORDS.get(atxt.lower(), None) or ACCESS_WORDS.get(atxt, default_access) \
                if atxt else default_access
            if atxt and atxt not in ACCESS_WORDS and atxt.lower() not in ACCESS_WORDS:
                item.access = ACCESS_RESTRICTED  # unknown access wording: fail safe
                item.problems.append(Problem("warning", "unknown-access-level",
                                             f"访问级别 '{atxt}' not known; treated as restricted",
                                             path=sheet_name, item=item.id, row=row.row, field="访问级别"))
        _scan_item(root, folder, item, allow_gaps=allow_gaps)
        batch.items.append(item)

    for r in sheet_rows:
        if r.row in matched_rows:
            continue
        ident = (r.fields.get("普查编号") or r.fields.get("本地编号") or "").strip()
        if not ident:
            batch.problems.append(Problem("error", "record-without-id",
                                          "row has neither 普查编号 nor 本地编号, so no folder can match it",
                                          path=sheet_name, row=r.row, field="普查编号"))
        else:
            batch.problems.append(Problem("error", "record-without-images",
                                          f"no image folder named '{ident}' for this record",
                                          path=sheet_name, row=r.row, item=ident))
    return batch


def _scan_item(root: Path, folder: Path, item: Item, *, allow_gaps: bool) -> None:
    children = sorted((p for p in folder.iterdir() if not is_hidden(p.name)), key=lambda p: natural_key(p.name))
    subdirs = [p for p in children if p.is_dir()]
    files = [p for p in children if p.is_file() and p.name.lower() not in IGNORED_NAMES]
    image_files = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS]
    for twin_key, names in _nfc_twins([p.name for p in children]).items():
        item.problems.append(Problem("error", "unicode-normalisation-twins",
                                     f"names {describe_twins(names)} differ only by Unicode normalisation "
                                     f"(NFC folds them to the same name)", path=f"{item.folder}/{twin_key}",
                                     item=item.id))
    if subdirs and image_files:
        item.problems.append(Problem("error", "mixed-layout",
                                     "item folder has both images and volume sub-folders; put all images in "
                                     "volume folders", path=item.folder, item=item.id))
    if subdirs:
        for i, d in enumerate(subdirs, 1):
            vol = Volume(id=f"{item.id}/{norm_id(d.name)}", item_id=item.id, label=norm_id(d.name), seq=i)
            _scan_volume(root, d, item, vol, allow_gaps=allow_gaps)
            item.volumes.append(vol)
    else:
        vol = Volume(id=f"{item.id}/1", item_id=item.id, label="1", seq=1)
        _scan_volume(root, folder, item, vol, allow_gaps=allow_gaps, files=files)
        item.volumes.append(vol)
    if not any(v.pages for v in item.volumes):
        item.problems.append(Problem("error", "no-images", "item folder has no page images", path=item.folder,
                                     item=item.id))
    structure = folder / "structure.csv"
    if structure.is_file():
        _read_structure(root, structure, item)


def _scan_volume(root: Path, d: Path, item: Item, vol: Volume, *, allow_gaps: bool,
                 files: list[Path] | None = None) -> None:
    if files is None:
        children = sorted((p for p in d.iterdir() if not is_hidden(p.name)), key=lambda p: natural_key(p.name))
        for p in children:
            if p.is_dir():
                item.problems.append(Problem("warning", "nested-folder", "folder inside a volume is ignored",
                                             path=rel(p, root), item=item.id))
        for twin_key, names in _nfc_twins([p.name for p in children]).items():
            item.problems.append(Problem("error", "unicode-normalisation-twins",
                                         f"names {describe_twins(names)} differ only by Unicode normalisation "
                                         f"(NFC folds them to the same name)", path=f"{rel(d, root)}/{twin_key}",
                                         item=item.id))
        files = [p for p in children if p.is_file() and p.name.lower() not in IGNORED_NAMES]
    seq = 0
    used: set[str] = set()
    numbers: dict[int, list[str]] = defaultdict(list)
    for f in files:
        r = rel(f, root)
        if f.suffix.lower() not in IMAGE_EXTENSIONS:
            item.problems.append(Problem("error", "unsupported-format",
                                         f"'{f.suffix or f.name}' files are not page images "
                                         f"(accepted: TIFF, JPEG, PNG, JPEG 2000)", path=r, item=item.id))
            continue
        seq += 1
        num = page_number(f.stem)
        page = Page(id=f"{vol.id}/{page_key(f, used)}", item_id=item.id, volume_id=vol.id, seq=seq, master=r,
                    number=num)
        if num is not None:
            numbers[num].append(f.name)
        vol.pages.append(page)
    for num, names in sorted(numbers.items()):
        if len(names) > 1:
            item.problems.append(Problem("error", "duplicate-page-number",
                                         f"page number {num} is used by {len(names)} files: {', '.join(names)}",
                                         path=rel(d, root), item=item.id))
    if numbers:
        present = sorted(numbers)
        missing = [n for n in range(present[0], present[-1] + 1) if n not in numbers]
        if missing:
            shown = ", ".join(str(n) for n in missing[:20]) + (" …" if len(missing) > 20 else "")
            item.problems.append(Problem("warning" if allow_gaps else "error", "page-number-gap",
                                         f"page numbers missing between {present[0]} and {present[-1]}: {shown}",
                                         path=rel(d, root), item=item.id))


def _read_structure(root: Path, path: Path, item: Item) -> None:
    r = rel(path, root)
    pages_by_file: dict[tuple[str, str], Page] = {}
    single = len(item.volumes) == 1 and item.volumes[0].label == "1"
    for v in item.volumes:
        for p in v.pages:
            pages_by_file[("" if single else v.label, Path(p.master).name)] = p
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("gb18030", errors="replace")
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return
    header = [h.strip().lower() for h in rows[0]]
    need = ["juan", "volume", "file"]
    if header[:3] != need:
        item.problems.append(Problem("warning", "bad-structure-file",
                                     f"header must be 'juan,volume,file', found {','.join(rows[0])}; file ignored",
                                     path=r, item=item.id, row=1))
        return
    starts: list[tuple[str, Page]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        row = (row + ["", "", ""])[:3]
        label, vol, fname = (c.strip() for c in row)
        page = pages_by_file.get(("" if single else vol, fname))
        if not label:
            item.problems.append(Problem("warning", "bad-structure-row", "empty juan label", path=r, item=item.id,
                                         row=n, field="juan"))
            continue
        if page is None:
            item.problems.append(Problem("warning", "bad-structure-row",
                                         f"no page image '{fname}' in volume '{vol or '(single)'}'", path=r,
                                         item=item.id, row=n, field="file"))
            continue
        starts.append((label, page))
    order = {p.id: i for i, p in enumerate(item.pages())}
    starts.sort(key=lambda s: order[s[1].id])
    all_pages = list(item.pages())
    for i, (label, page) in enumerate(starts):
        end = all_pages[order[starts[i + 1][1].id] - 1].id if i + 1 < len(starts) else all_pages[-1].id
        item.juan.append(Juan(label=label, start_page=page.id, end_page=end))
