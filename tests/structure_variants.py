"""Variants of a sample batch for the leaf-sequence tests: leaf images of one volume deleted,
swapped or duplicated (as a re-shoot: decoded, shifted a little, re-encoded), files renumbered so
ingest sees a clean capture order, and the findings the structure stage must report, computed
from the sample truth (juan/leaf of every image)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class Variant:
    batch: Path
    item: str
    # capture order after the edit: (new file path relative to the batch, [(juan, leaf) …] it shows)
    pages: list[tuple[str, list[tuple[str, int]]]]
    deleted: list[tuple[str, int]] = field(default_factory=list)
    swapped: list[tuple[str, str]] = field(default_factory=list)  # new file names of exchanged images
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (copy, original), new names


def truth_leaves(truth_dir: Path, item: str, rel: str) -> list[tuple[str, int]]:
    parts = Path(rel).parts
    vol = parts[1] if len(parts) == 3 else "-"
    t = json.loads((truth_dir / item / vol / (Path(rel).stem + ".json")).read_text("utf-8"))
    return [(lf["juan"], lf["leaf"]) for lf in t["leaves"]]


def reshoot(src: Path, dest: Path, seed: int) -> None:
    """The same leaf photographed again: shifted by a few pixels, other noise, other JPEG quality."""
    rng = np.random.default_rng(seed)
    with Image.open(src) as im:
        dpi = im.info.get("dpi", (120, 120))
        a = np.asarray(im.convert("RGB"), np.float32)
    dy, dx = int(rng.integers(3, 9)), int(rng.integers(3, 9))
    a = np.roll(a, (dy, dx), axis=(0, 1))
    a = a * float(rng.uniform(0.96, 1.03)) + rng.normal(0, 2.0, a.shape)
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(dest, "JPEG", quality=83, dpi=dpi)


def make_variant(src_batch: Path, truth_dir: Path, dest: Path, item: str, volume: str,
                 ops: list[tuple], seed: int = 1) -> Variant:
    """Copy ``item`` of ``src_batch`` (with its sheet row and batch.toml, without structure.csv) to
    ``dest`` and apply ``ops`` to ``volume``'s images, in order:

    ``("delete", n)``, ``("swap", n, m)``, ``("duplicate", n)`` (re-shoot inserted right after it),
    ``("duplicate", n, at)`` (inserted before position ``at``); positions are 1-based in the
    current list."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(src_batch / "batch.toml", dest / "batch.toml")
    with open(src_batch / "records.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0].keys())
    keep = [r for r in rows if item in (r.get("普查编号"), r.get("本地编号"))]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(keep)
    (dest / "records.csv").write_text(buf.getvalue(), "utf-8")
    src_item = src_batch / item
    out_item = dest / item
    vols = sorted(p.name for p in src_item.iterdir() if p.is_dir())
    pages: list[tuple[str, list[tuple[str, int]]]] = []
    # entries: (source file, leaves, is_reshoot_of)
    lists: dict[str, list[tuple[Path, list, Path | None]]] = {}
    for v in vols:
        files = sorted(p for p in (src_item / v).iterdir() if p.is_file())
        lists[v] = [(p, truth_leaves(truth_dir, item, f"{item}/{v}/{p.name}"), None) for p in files]
    cur = lists[volume]
    deleted, swapped_src, dup_src = [], [], []
    for op in ops:
        if op[0] == "delete":
            e = cur.pop(op[1] - 1)
            deleted += e[1]
        elif op[0] == "swap":
            a, b = op[1] - 1, op[2] - 1
            cur[a], cur[b] = cur[b], cur[a]
            swapped_src.append((cur[a][0], cur[b][0]))
        elif op[0] == "duplicate":
            e = cur[op[1] - 1]
            at = op[2] - 1 if len(op) > 2 else op[1]
            cur.insert(at, (e[0], e[1], e[0]))
            dup_src.append(e[0])
    names: dict[tuple[Path, bool], str] = {}
    for v in vols:
        (out_item / v).mkdir(parents=True, exist_ok=True)
        for n, (src, leaves, of) in enumerate(lists[v], start=1):
            rel = f"{item}/{v}/{n:04d}{src.suffix if of is None else '.jpg'}"
            if of is None:
                shutil.copy(src, dest / rel)
            else:
                reshoot(src, dest / rel, seed + n)
            names[(src, of is not None)] = rel
            pages.append((rel, leaves))
    var = Variant(batch=dest, item=item, pages=pages, deleted=deleted)
    var.swapped = [(names[(a, False)], names[(b, False)]) for a, b in swapped_src]
    var.duplicates = [(names[(s, True)], names[(s, False)]) for s in dup_src]
    return var


def expected_missing(var: Variant) -> set[tuple[str, int]]:
    """Deleted leaves that leave a gap (a leaf with a higher number of the same juan remains)."""
    present: dict[str, set[int]] = {}
    for _rel, leaves in var.pages:
        for j, n in leaves:
            present.setdefault(j, set()).add(n)
    return {(j, n) for j, n in var.deleted if n not in present.get(j, set()) and any(m > n for m in present.get(j, ()))}
