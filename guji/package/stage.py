"""``guji package``: one BagIt bag per item, for long-term preservation.

Each bag (bagit library, BagIt 0.97/1.0, sha256 + sha512 manifests) holds in ``data/``:

| path | what |
|---|---|
| ``masters/…`` | the master images, byte-identical (path inside the item folder kept) |
| ``derivatives/…`` | access JPEG, OCR-ready image, thumbnail per canvas (from ``guji clean``) |
| ``ocr/…`` | page model JSON, ALTO 4.4, hOCR, text per canvas (from ``guji ocr``) |
| ``metadata/<item>.{json,public.json,mods.xml,dc.xml}`` | the normalised census record and crosswalks |
| ``qc/qc.json`` | the item's part of the scan-QC report (thresholds of its profile, flags per canvas) |
| ``iiif/…`` | the item's IIIF manifest(s) from ``guji iiif`` |
| ``mets.xml`` | METS with MODS, MIX per image and PREMIS provenance (:mod:`guji.package.mets`) |

``bag-info.txt`` names the institution, census number, batch, item, dates and Payload-Oxum.

Every copied file is checked against the SHA-256 the state store recorded for it (the bag's own
sha256 manifest is compared, so there is no extra read): a master or derivative that changed since
it was recorded is not packaged (``package-source-changed``, the item fails, the rest go on).

Bags go to a folder (``--out DIR``: built beside the destination and renamed into place) or to a
storage target (``--target s3://bucket/prefix`` or a folder) through the storage interface of
``guji publish``: payload first, then manifests, bag-info, bagit.txt and tag manifests, each object
verified; objects of an older version of the bag that are no longer in it are deleted.

Resumable and idempotent: the fingerprint of a bag (the recorded hashes of every payload file,
the METS and QC bytes, the destination and the tool versions) is kept in the state store under
stage ``package``; an item whose fingerprint is unchanged and whose bag is still there (tag
manifest hash as recorded) is skipped and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from guji import __version__
from guji.errors import NotReady, Problem
from guji.exitcodes import ExitCode, worst
from guji.fsutil import canonical_json, sha256_bytes, sha256_file
from guji.model import Batch, Canvas, Item
from guji.package.mets import BagFile, master_work_path, write_mets
from guji.package.provenance import FIXITY_CHECK, Provenance, item_provenance
from guji.settings import S3_SETTINGS, Setting, StageSettings
from guji.stage import StageContext, StageResult
from guji.state import fingerprint

log = logging.getLogger("guji.package")

STAGE = "package"
PACKAGE_VERSION = "1"  # bump when the bag layout or METS changes
CHECKSUMS = ["sha256", "sha512"]
SETTINGS = StageSettings("package", (
    Setting("out", None, "存放 bag 的文件夾（每書一個子文件夾）", "folder for the bags (one sub-folder per item)",
            type="str", nullable=True, option="--out -o"),
    Setting("target", None, "s3://bucket/prefix（或文件夾），代替 --out，經 publish 的存儲層",
            "s3://bucket/prefix (or a folder) instead of --out, through the same storage layer as `guji publish`",
            type="str", nullable=True, option="--target"),
    *S3_SETTINGS,
    Setting("items", None, "只打包這些書（可重複）", "only these items (repeat the option for several)", type="strs",
            nullable=True, option="--item"),
    Setting("published", None, "`guji publish` 的發佈文件夾：其記錄成為 PREMIS 發佈事件",
            "a publication folder of `guji publish`: its record becomes a PREMIS publication event",
            type="str", nullable=True, option="--published"),
    Setting("processes", 1, "bagit 計算散列的進程數（命令行：--jobs）", "bagit hashing processes (command line: --jobs)", min=1,
            nullable=True),
))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()

# files of a bag uploaded last, in this order, so an interrupted upload never looks complete
TAG_ORDER = ("manifest-", "bag-info.txt", "bagit.txt", "tagmanifest-")


def _tools() -> dict[str, str]:
    import bagit
    import lxml.etree

    return {"guji": __version__, "guji-package": PACKAGE_VERSION, "bagit": getattr(bagit, "VERSION", "?"),
            "lxml": ".".join(map(str, lxml.etree.LXML_VERSION[:3]))}


# -- what goes into a bag ----------------------------------------------------------------------------

def plan_item(ctx: StageContext, batch: Batch, item: Item, canvases: list[Canvas],
              root: Path) -> tuple[list[BagFile], list[Problem]]:
    """Payload files of one item (without METS), with the hashes the state store recorded."""
    files: list[BagFile] = []
    problems: list[Problem] = []
    store = ctx.store
    work = ctx.work
    prefix = item.folder.rstrip("/") + "/"
    for page in item.pages():
        entry = store.master_entry(page.master)
        digest = entry[1] if entry else page.sha256
        rel = page.master[len(prefix):] if page.master.startswith(prefix) else page.master
        files.append(BagFile(
            rel=f"masters/{rel}", group="MASTER", sha256=digest, source=root / page.master, size=page.size,
            work_path=master_work_path(page.master), page_id=page.id,
            tech={"width": page.width, "height": page.height, "mode": page.mode, "bit_depth": page.bit_depth,
                  "ppi": page.ppi, "compression": page.compression, "icc_profile": page.icc_profile,
                  "format": page.format}))
    mine = sorted((c for c in canvases if c.item_id == item.id), key=lambda c: c.order)
    for c in mine:
        rec = store.get("clean", c.page_id)
        recorded = rec.outputs if rec is not None and rec.status == "ok" else {}
        for kind, group in (("access", "ACCESS"), ("ocr", "OCR-INPUT"), ("thumbnail", "THUMBS")):
            d = getattr(c, kind)
            if d is None:
                continue
            digest = recorded.get(d.path) or d.sha256
            if not digest:
                problems.append(Problem("warning", "package-unrecorded", f"{d.path} has no recorded hash",
                                        path=d.path, item=item.id, page=c.id, stage=STAGE))
                digest = sha256_file(work / d.path)
            files.append(BagFile(
                rel="derivatives/" + _under(d.path, f"clean/{item.id}/"), group=group, sha256=digest,
                source=work / d.path, work_path=d.path, canvas_id=c.id,
                tech={"width": d.width, "height": d.height}))
        rec = store.get("ocr", c.id)
        if rec is not None and rec.status == "ok":
            for path, digest in sorted(rec.outputs.items()):
                files.append(BagFile(rel="ocr/" + _under(path, f"ocr/{item.id}/"), group="OCR", sha256=digest,
                                     source=work / path, work_path=path, canvas_id=c.id))
    rec = store.get("metadata", "batch")
    if rec is not None and rec.status == "ok":
        for path, digest in sorted(rec.outputs.items()):
            if Path(path).name.startswith(item.id + "."):
                files.append(BagFile(rel="metadata/" + Path(path).name, group="METADATA", sha256=digest,
                                     source=work / path, work_path=path))
    qc = _qc_extract(work, item, mine)
    if qc is not None:
        files.append(BagFile(rel="qc/qc.json", group="METADATA", sha256=sha256_bytes(qc), data=qc,
                             work_path="clean/qc/qc.json"))
    for path in _manifests(work, item):
        files.append(BagFile(rel="iiif/" + _under(path, f"build/iiif/{item.id}/"), group="METADATA",
                             sha256=sha256_file(work / path), source=work / path, work_path=path))
    for f in files:
        if f.data is not None:
            f.size = len(f.data)
        elif f.source is not None and not f.size:
            try:
                f.size = f.source.stat().st_size
            except OSError:
                f.size = 0
    return files, problems


def _under(path: str, prefix: str) -> str:
    return path[len(prefix):] if path.startswith(prefix) else Path(path).name


def _qc_extract(work: Path, item: Item, canvases: list[Canvas]) -> bytes | None:
    p = work / "clean" / "qc" / "qc.json"
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    pages = [pg for pg in doc.get("pages", []) if pg.get("item") == item.id]
    out = {"item": item.id, "profile": item.profile,
           "thresholds": (doc.get("thresholds") or {}).get(item.profile, {}), "pages": pages}
    return (json.dumps(out, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _manifests(work: Path, item: Item) -> list[str]:
    base = work / "build" / "iiif" / item.id
    out = []
    for name in ("manifest.json", "collection.json"):
        if (base / name).is_file():
            out.append(f"build/iiif/{item.id}/{name}")
    if base.is_dir():
        for p in sorted(base.glob("v*/manifest.json")):
            out.append(p.relative_to(work).as_posix())
    return out


def _load_mods(work: Path, item: Item):
    from lxml import etree

    p = work / "metadata" / f"{item.id}.mods.xml"
    if not p.exists():
        return None
    parser = etree.XMLParser(no_network=True, resolve_entities=False, remove_blank_text=True)
    try:
        return etree.parse(str(p), parser).getroot()
    except etree.XMLSyntaxError:
        return None


def _published_record(folder: str | None) -> dict[str, Any] | None:
    if not folder:
        return None
    from guji.publish.storage import LocalStorage

    p = Path(folder) / LocalStorage.MANIFEST
    if not p.exists():
        return None
    try:
        objs = json.loads(p.read_text("utf-8")).get("objects", {})
    except (OSError, ValueError):
        return None
    return {"target": str(Path(folder).resolve()), "date": p.stat().st_mtime,
            "objects": {k: v.get("sha256") for k, v in objs.items()}}


def provenance_fingerprint(prov: Provenance) -> str:
    """What of the provenance makes a new bag: every event except later fixity checks (recorded in the
    work folder; they appear in the next bag written for another reason), publications without their
    date (publish rewrites its record on every run)."""
    evs = []
    for e in prov.events:
        if e.stage == "events" and e.type == FIXITY_CHECK:
            continue
        d = e.to_dict()
        if e.stage == "publish":
            d.pop("id"), d.pop("date")
        evs.append(d)
    return sha256_bytes(canonical_json(evs).encode())


def bag_info(batch: Batch, item: Item, prov_dates: list[str]) -> dict[str, str]:
    inst = batch.institution
    info = {
        "Source-Organization": str(inst.get("institution") or ""),
        "Organization-Code": str(inst.get("institution_code") or ""),
        "Contact-Name": str(inst.get("operator") or ""),
        "External-Identifier": item.census_no or item.id,
        "External-Description": item.record.get("题名卷数") or item.id,
        "Internal-Sender-Identifier": item.id,
        "Internal-Sender-Description": f"preservation package written by guji {__version__}",
        "Bag-Group-Identifier": batch.id,
        "Census-Number": item.census_no or "",
        "Batch": batch.id,
        "Access": item.access,
        "Profile": item.profile,
        "Date-Ingested": min(prov_dates) if prov_dates else "",
        "Date-Last-Processed": max(prov_dates) if prov_dates else "",
    }
    return {k: v for k, v in info.items() if v}


# -- the stage -------------------------------------------------------------------------------------------

def run(ctx: StageContext) -> StageResult:
    import bagit

    p = ctx.params(STAGE, DEFAULTS)
    logging.getLogger("bagit").setLevel(logging.WARNING)  # one line per file otherwise
    res = StageResult(stage=STAGE)
    batch = ctx.batch()
    try:
        canvases = ctx.canvases()
    except NotReady:
        canvases = []
    root = Path(ctx.batch_dir).resolve() if ctx.batch_dir else Path(batch.root)
    dest_desc, storage, out_dir = _destination(p)
    tools = _tools()
    published = _published_record(p.get("published"))
    wanted = set(p["items"] or [])
    unknown = wanted - {it.id for it in batch.items}
    for u in sorted(unknown):
        res.problems.append(Problem("error", "unknown-item", f"item {u} is not in the batch", item=u, stage=STAGE))
    items = [it for it in batch.items if (not wanted or it.id in wanted)]
    remote = None
    with ctx.reporter.progress("package", len(items)) as bar:
        for item in items:
            if not item.ok:
                res.problems.append(Problem("warning", "package-item-blocked",
                                            "item was blocked at ingest; not packaged", item=item.id, stage=STAGE))
                bar.advance(1, f"{item.id} blocked")
                continue
            files, probs = plan_item(ctx, batch, item, canvases, root)
            res.problems.extend(probs)
            prov = item_provenance(ctx.store, batch, item, ctx.work, canvases=canvases, published=published)
            # the METS is made from these inputs, so it is not needed to decide whether the bag is current
            inputs = {f.rel: f.sha256 for f in files}
            inputs["(item)"] = sha256_bytes(canonical_json(item.__dict__).encode())
            inputs["(provenance)"] = provenance_fingerprint(prov)
            key = f"{dest_desc}#{item.id}"
            fp = fingerprint(inputs, {"dest": dest_desc}, tools)
            rec = ctx.store.get(STAGE, key)
            if (not ctx.force and rec is not None and rec.status == "ok" and rec.fingerprint == fp):
                if storage is None:
                    intact = _local_bag_intact(out_dir / item.id, rec.info)
                else:
                    if remote is None:
                        remote = storage.list()
                    intact = _remote_bag_intact(remote, item.id, rec.info)
                if intact:
                    res.skipped += 1
                    bar.advance(1, f"{item.id} current")
                    continue
            if storage is not None and remote is None:
                remote = storage.list()
            try:
                info = _make_bag(bagit, ctx, p, batch, item, canvases, files, prov, storage, out_dir, remote)
            except SourceChanged as e:
                res.failed += 1
                for path, why in e.files:
                    res.problems.append(Problem("error", "package-source-changed", why, path=path, item=item.id,
                                                stage=STAGE))
                ctx.store.record(STAGE, key, fingerprint=fp, status="failed", inputs=inputs,
                                 params={"dest": dest_desc}, tools=tools, message=str(e))
                bar.advance(1, f"{item.id} FAILED")
                continue
            ctx.store.record(STAGE, key, fingerprint=fp, status="ok", inputs=inputs, params={"dest": dest_desc},
                             tools=tools, info=info)
            res.done += 1
            bar.advance(1, item.id)
    if storage is not None:
        storage.commit()
    res.info = {"destination": dest_desc, "bags": res.done + res.skipped}
    if res.failed or any(pr.severity == "error" for pr in res.problems):
        res.exit_code = worst(res.exit_code, ExitCode.ITEMS_BLOCKED)
    return res


class SourceChanged(Exception):
    def __init__(self, files: list[tuple[str, str]]):
        super().__init__(f"{len(files)} file(s) differ from what the state store recorded")
        self.files = files


def _destination(p: dict[str, Any]):
    from guji.errors import GujiError

    if p.get("target"):
        from guji.publish.storage import open_storage

        st = open_storage(out=None, target=p["target"], endpoint_url=p.get("endpoint_url"), region=p.get("region"),
                          addressing_style=p.get("addressing_style"))
        return st.description, st, None
    if not p.get("out"):
        raise GujiError("give --out DIR (a folder for the bags) or --target s3://bucket/prefix", ExitCode.USAGE)
    out = Path(p["out"]).resolve()
    return f"folder {out}", None, out


def _tag_digests(bag_dir: Path) -> dict[str, str]:
    t = bag_dir / "tagmanifest-sha256.txt"
    data = t.read_bytes()
    return {"tagmanifest_sha256": sha256_bytes(data), "tagmanifest_md5": hashlib.md5(data).hexdigest()}  # noqa: S324


def _local_bag_intact(bag_dir: Path, info: dict[str, Any]) -> bool:
    try:
        return _tag_digests(bag_dir)["tagmanifest_sha256"] == info.get("tagmanifest_sha256")
    except OSError:
        return False


def _remote_bag_intact(remote: dict[str, Any], item_id: str, info: dict[str, Any]) -> bool:
    obj = remote.get(f"{item_id}/tagmanifest-sha256.txt")
    if obj is None:
        return False
    if obj.sha256 is not None:
        return obj.sha256 == info.get("tagmanifest_sha256")
    return (obj.etag or "").strip('"') == info.get("tagmanifest_md5")


def _copy(f: BagFile, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if f.data is not None:
        dest.write_bytes(f.data)
    else:
        assert f.source is not None
        shutil.copyfile(f.source, dest)


def _make_bag(bagit, ctx: StageContext, p: dict[str, Any], batch: Batch, item: Item, canvases: list[Canvas],
              files: list[BagFile], prov, storage, out_dir: Path | None,
              remote: dict[str, Any] | None) -> dict[str, Any]:
    parent = out_dir if out_dir is not None else ctx.work / "package" / "staging"
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{item.id}.", suffix=".tmp", dir=parent))
    try:
        missing = []
        for f in files:
            try:
                _copy(f, staging / f.rel)
            except FileNotFoundError:
                missing.append((f.work_path or f.rel, f"{f.work_path or f.rel}: file is gone (recorded SHA-256 "
                                                     f"{f.sha256[:12]}…)"))
        if missing:
            raise SourceChanged(missing)
        write_mets(staging / "mets.xml", batch, item, canvases, files, prov, mods=_load_mods(ctx.work, item))
        processes = int(p.get("processes") or 1)
        info = bag_info(batch, item, [e.date for e in prov.events if e.date])
        bag = bagit.make_bag(str(staging), info, processes=max(1, processes if processes > 0 else os.cpu_count() or 1),
                             checksums=CHECKSUMS)
        got = {path[len("data/"):]: h["sha256"] for path, h in bag.entries.items() if path.startswith("data/")}
        changed = [(f.work_path or f.rel, f"{f.work_path or f.rel}: SHA-256 {got.get(f.rel, '?')[:12]}… differs "
                                          f"from the recorded {f.sha256[:12]}…")
                   for f in files if got.get(f.rel) != f.sha256]
        if changed:
            raise SourceChanged(changed)
        tags = _tag_digests(staging)
        oxum = bag.info.get("Payload-Oxum", "")
        if storage is None:
            assert out_dir is not None
            final = out_dir / item.id
            old = None
            if final.exists():
                old = out_dir / f".{item.id}.{int(time.time() * 1000)}.old"
                os.replace(final, old)
            os.replace(staging, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            where = str(final)
        else:
            _upload(storage, staging, item.id, bag, remote or {})
            where = f"{storage.description.split(' at ')[0].rstrip('/')}/{item.id}/"
        return {"bag": where, "payload_oxum": oxum, "files": len(files) + 1, **tags}
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _upload(storage, bag_dir: Path, item_id: str, bag, remote: dict[str, Any]) -> None:
    """Upload a bag (payload first, tag files last), verify each object, delete what an older
    version of the bag had and this one has not (``remote``: the target's listing before)."""
    from guji.errors import GujiError

    rels = sorted(p.relative_to(bag_dir).as_posix() for p in bag_dir.rglob("*") if p.is_file())

    def rank(rel: str) -> int:
        if rel.startswith("data/"):
            return 0
        for n, prefix in enumerate(TAG_ORDER, 1):
            if rel.startswith(prefix):
                return n
        return len(TAG_ORDER)

    rels.sort(key=lambda r: (rank(r), r))
    payload_sha = {path: h["sha256"] for path, h in bag.entries.items()}
    keys = set()
    for rel in rels:
        path = bag_dir / rel
        digest = payload_sha.get(rel) or sha256_file(path)
        size = path.stat().st_size
        key = f"{item_id}/{rel}"
        keys.add(key)
        for attempt in range(3):
            storage.put(key, path, digest, size)
            if storage.verify(key, path, digest, size):
                break
        else:
            raise GujiError(f"bag object {key} did not verify after upload to {storage.description}",
                            ExitCode.PUBLISH_FAILED)
    for key in sorted(remote):
        if key.startswith(f"{item_id}/") and key not in keys:
            storage.delete(key)


def status(ctx: StageContext) -> dict:
    recs = ctx.store.records(STAGE)
    return {"bags": sum(1 for r in recs if r.status == "ok"), "failed": sum(1 for r in recs if r.status != "ok")}

