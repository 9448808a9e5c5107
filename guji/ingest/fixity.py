"""``guji verify``: fixity of everything guji wrote or keeps.

Four scopes, each reported file by file (missing, changed, unexpected) as its own result:

- **masters** (``verify``): re-hash every master in the fixity ledger recorded at ingest;
- **work** (``verify:work``): every output the state store recorded for the current pages and
  canvases (derivatives, OCR files, metadata, IIIF tiles) against its recorded SHA-256, plus
  files in the derivative and OCR folders of an item that no record wrote;
- **published** (``verify:published``): a publication folder against publish's record
  ``.guji/published.json``, or an S3 target against each object's ``x-amz-meta-sha256`` (the
  objects are downloaded and hashed; objects of the build missing from the bucket are named);
- **bags** (``verify:bag``): a BagIt bag with the bagit library (full: every checksum; ``fast``:
  Payload-Oxum and completeness only), naming each file when the bag is invalid.

Every scope that was checked in a work folder is recorded there as a PREMIS "fixity check" event
(``StateStore.record_event``), with the files that failed per item, so packages show it later.
Any loss or change gives exit code 5 (FIXITY_FAILED).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterable

from guji import __version__
from guji.errors import NotReady, Problem
from guji.exitcodes import ExitCode
from guji.fsutil import CHUNK, hash_chunks, hash_file
from guji.stage import StageContext, StageResult
from guji.state import StateStore

log = logging.getLogger("guji.verify")

FIXITY_CHECK = "fixity check"


def _hash_task(task: dict[str, Any]) -> dict[str, Any]:
    path = Path(task["path"])
    if not path.exists():
        return {"state": "missing"}
    try:
        digests, size = hash_file(path)
    except OSError as e:
        return {"state": "unreadable", "error": str(e)}
    return {"state": "ok", "sha256": digests["sha256"], "size": size}


def _item_of(key: str, items: Iterable[str]) -> str | None:
    """The item a page/canvas id or a work/publication path belongs to (best effort)."""
    from guji.iiif import uris

    first = key.split("/", 1)[0]
    items = list(items)
    if first in items:
        return first
    parts = key.split("/")
    for it in sorted(items, key=len, reverse=True):
        if it in parts or Path(key).name.startswith(it + ".") or any(
                p.startswith(uris.slug(it) + "_") for p in parts):
            return it
    return None


def _failures_by_item(problems: list[Problem], items: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    items = list(items)
    for p in problems:
        it = p.item or _item_of(p.page or p.path or "", items)
        if it:
            out.setdefault(it, []).append(f"{p.code}: {p.path}")
    return out


def record_check(store: StateStore, scope: str, res: StageResult, *, items: Iterable[str] = (),
                 item_ids: list[str] | None = None, params: dict[str, Any] | None = None) -> None:
    """Record one fixity-check event for ``res`` in the state store (shows up as PREMIS later)."""
    failed = [p for p in res.problems if p.severity == "error"]
    detail: dict[str, Any] = {"checked": res.info.get("checked", res.done + res.failed), "failed": len(failed),
                              "items": _failures_by_item(failed, items)}
    if item_ids is not None:
        detail["item_ids"] = item_ids
    store.record_event(FIXITY_CHECK, scope, agent={"guji": __version__}, outcome="failure" if failed else "success",
                       params=params or {}, detail=detail)


# -- masters -----------------------------------------------------------------------------------------

def verify(ctx: StageContext) -> StageResult:
    """Re-hash every master in the fixity ledger (stage name ``verify``)."""
    rows = ctx.store.masters()
    if not rows:
        raise NotReady(f"no masters recorded in {ctx.work}: run `guji ingest BATCH --work {ctx.work}` first")
    root = Path(ctx.batch_dir).resolve() if ctx.batch_dir else Path(ctx.batch().root)
    res = StageResult(stage="verify")
    tasks = [{"page_id": pid, "rel": path, "path": str(root / path), "sha256": digest, "size": size}
             for pid, path, digest, size in rows]
    with ctx.reporter.progress("verify: re-hashing masters", len(tasks)) as bar:
        for task, out in ctx.executor.map_unordered(_hash_task, tasks):
            bar.advance(1)
            if not isinstance(out, dict):
                out = {"state": "unreadable", "error": str(out)}
            if out["state"] == "missing":
                res.problems.append(Problem("error", "master-missing", "master file is gone", path=task["rel"],
                                            page=task["page_id"]))
            elif out["state"] == "unreadable":
                res.problems.append(Problem("error", "master-unreadable", out.get("error", ""), path=task["rel"],
                                            page=task["page_id"]))
            elif out["sha256"] != task["sha256"]:
                res.problems.append(Problem(
                    "error", "master-changed",
                    f"SHA-256 {out['sha256'][:12]}… ({out['size']} bytes) differs from ledger "
                    f"{task['sha256'][:12]}… ({task['size']} bytes)", path=task["rel"], page=task["page_id"]))
            else:
                res.done += 1
    res.failed = len(res.problems)
    res.info = {"masters": len(tasks), "intact": res.done, "root": str(root), "checked": len(tasks)}
    if res.problems:
        res.exit_code = ExitCode.FIXITY_FAILED
    return res


# -- the work folder ---------------------------------------------------------------------------------

WORK_STAGES = ("clean", "ocr", "metadata", "iiif")
UNEXPECTED_ROOTS = ("clean", "ocr")  # item folders where every file is a recorded output


def work_outputs(ctx: StageContext) -> dict[str, tuple[str, str, str]]:
    """{WORK-relative path: (sha256, stage, key)} of every output recorded for the current batch."""
    batch = ctx.batch()
    pages = {p.id for p in batch.pages()}
    try:
        canvases = {c.id for c in ctx.canvases()}
    except NotReady:
        canvases = set()
    current = {"clean": pages, "ocr": canvases, "iiif": canvases}
    out: dict[str, tuple[str, str, str]] = {}
    for stage in WORK_STAGES:
        for rec in ctx.store.records(stage):
            if rec.status != "ok" or (stage in current and rec.key not in current[stage]):
                continue
            for rel, digest in rec.outputs.items():
                out[rel] = (digest, stage, rec.key)
    return out


def verify_work(ctx: StageContext) -> StageResult:
    """Every recorded output of the current pages and canvases against its recorded SHA-256."""
    res = StageResult(stage="verify:work")
    expected = work_outputs(ctx)
    items = [it.id for it in ctx.batch().items]
    tasks = [{"rel": rel, "path": str(ctx.work / rel), "sha256": d, "stage": st, "key": k}
             for rel, (d, st, k) in sorted(expected.items())]
    with ctx.reporter.progress("verify: work folder", len(tasks)) as bar:
        for task, out in ctx.executor.map_unordered(_hash_task, tasks):
            bar.advance(1)
            if not isinstance(out, dict):
                out = {"state": "unreadable", "error": str(out)}
            item = _item_of(task["key"], items)
            if out["state"] == "missing":
                res.problems.append(Problem("error", "output-missing", f"{task['stage']} output is gone",
                                            path=task["rel"], item=item, page=task["key"], stage=task["stage"]))
            elif out["state"] == "unreadable":
                res.problems.append(Problem("error", "output-unreadable", out.get("error", ""), path=task["rel"],
                                            item=item, page=task["key"], stage=task["stage"]))
            elif out["sha256"] != task["sha256"]:
                res.problems.append(Problem("error", "output-changed",
                                            f"SHA-256 {out['sha256'][:12]}… differs from the {task['stage']} record "
                                            f"{task['sha256'][:12]}…", path=task["rel"], item=item,
                                            page=task["key"], stage=task["stage"]))
            else:
                res.done += 1
    n_unexpected = 0
    for top in UNEXPECTED_ROOTS:
        for item in items:
            d = ctx.work / top / item
            if not d.is_dir():
                continue
            for p in sorted(d.rglob("*")):
                rel = p.relative_to(ctx.work).as_posix()
                if p.is_file() and rel not in expected and not p.name.startswith("."):
                    n_unexpected += 1
                    res.problems.append(Problem("error", "output-unexpected",
                                                "file in the work folder that no stage recorded", path=rel,
                                                item=item, stage=top))
    res.failed = len(res.problems)
    res.info = {"checked": len(tasks), "intact": res.done, "unexpected": n_unexpected}
    if res.problems:
        res.exit_code = ExitCode.FIXITY_FAILED
    return res


# -- the publication ---------------------------------------------------------------------------------

def verify_published_folder(folder: Path) -> StageResult:
    """A publication folder against publish's record (``.guji/published.json``: size and SHA-256)."""
    from guji.publish.storage import LocalStorage

    res = StageResult(stage="verify:published")
    folder = Path(folder)
    rec_path = folder / LocalStorage.MANIFEST
    if not rec_path.exists():
        raise NotReady(f"{rec_path} not found: {folder} was not published by `guji publish`")
    objects: dict[str, dict[str, Any]] = json.loads(rec_path.read_text("utf-8")).get("objects", {})
    for key, st in sorted(objects.items()):
        out = _hash_task({"path": str(folder / key)})
        if out["state"] == "missing":
            res.problems.append(Problem("error", "published-missing", "published file is gone", path=key))
        elif out["state"] == "unreadable":
            res.problems.append(Problem("error", "published-unreadable", out.get("error", ""), path=key))
        elif out["sha256"] != st.get("sha256") or out["size"] != st.get("size"):
            res.problems.append(Problem(
                "error", "published-changed", f"SHA-256 {out['sha256'][:12]}… ({out['size']} bytes) differs from "
                f"what publish recorded {str(st.get('sha256'))[:12]}… ({st.get('size')} bytes)", path=key))
        else:
            res.done += 1
    unexpected = 0
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        key = p.relative_to(folder).as_posix()
        if key in objects or any(part.startswith(".") for part in key.split("/")):
            continue
        unexpected += 1
        res.problems.append(Problem("error", "published-unexpected", "file in the publication that publish did "
                                    "not write", path=key))
    res.failed = len(res.problems)
    res.info = {"target": f"folder {folder.resolve()}", "checked": len(objects), "intact": res.done,
                "unexpected": unexpected}
    if res.problems:
        res.exit_code = ExitCode.FIXITY_FAILED
    return res


def expected_publication(ctx: StageContext) -> dict[str, str]:
    """{key: sha256} of what ``guji publish`` would publish from this work folder now (its own
    selection: public items only, build + site)."""
    from guji.publish.sync import collect_for_batch

    build = ctx.work / "build"
    if not build.exists():
        return {}
    files, _ = collect_for_batch(ctx, build, ctx.work / "publish" / "site")
    return {f.key: f.sha256 for f in files}


def verify_published_s3(storage: Any, expected: dict[str, str] | None = None) -> StageResult:
    """Every publication object in the bucket, downloaded and hashed against its ``sha256`` metadata
    (written by publish); objects without it are unexpected; ``expected`` keys absent are missing."""
    from guji.publish.sync import is_publication_key

    res = StageResult(stage="verify:published")
    listed = storage.list()
    keys = sorted(k for k in listed if is_publication_key(k))
    for key in keys:
        head = storage.head(key)
        recorded = (head or {}).get("Metadata", {}).get("sha256")
        if not recorded:
            res.problems.append(Problem("error", "published-unexpected",
                                        "object without guji's SHA-256 metadata (not written by publish)",
                                        path=key))
            continue
        body = storage.client.get_object(Bucket=storage.bucket, Key=storage.prefix + key)["Body"]
        digests, size = hash_chunks(body.iter_chunks(CHUNK))
        if digests["sha256"] != recorded:
            res.problems.append(Problem("error", "published-changed",
                                        f"SHA-256 {digests['sha256'][:12]}… ({size} bytes) differs from the recorded "
                                        f"{recorded[:12]}…", path=key))
        else:
            res.done += 1
    for key in sorted(set(expected or {}) - set(listed)):
        res.problems.append(Problem("error", "published-missing", "in the build but not in the bucket", path=key))
    res.failed = len(res.problems)
    res.info = {"target": storage.description, "checked": len(keys), "intact": res.done}
    if res.problems:
        res.exit_code = ExitCode.FIXITY_FAILED
    return res


# -- bags --------------------------------------------------------------------------------------------

def verify_bag(path: Path, *, fast: bool = False, processes: int = 1) -> StageResult:
    """Validate a BagIt bag with the bagit library; name every missing, changed or unexpected file.

    ``fast``: Payload-Oxum (file count and bytes) and completeness only, no checksums."""
    import bagit

    logging.getLogger("bagit").setLevel(logging.ERROR)
    res = StageResult(stage="verify:bag")
    path = Path(path)
    res.info = {"bag": str(path), "mode": "fast" if fast else "full"}
    try:
        bag = bagit.Bag(str(path))
    except bagit.BagError as e:
        res.problems.append(Problem("error", "bag-invalid", f"not a readable BagIt bag: {e}", path=str(path)))
        res.failed = 1
        res.exit_code = ExitCode.FIXITY_FAILED
        return res
    res.info["item"] = bag.info.get("Internal-Sender-Identifier")
    n_files = len(bag.entries)
    res.info["checked"] = n_files
    try:
        bag.validate(processes=processes, fast=fast)
        res.done = n_files
        return res
    except bagit.BagValidationError as e:
        message = e.message
    except bagit.BagError as e:
        message = str(e)
    # bagit stops at the first failing step (Payload-Oxum, then completeness, then checksums):
    # name every file ourselves
    only_in_manifests, only_on_fs = bag.compare_manifests_with_fs()
    for rel in sorted(only_in_manifests):
        res.problems.append(Problem("error", "bag-file-missing", "listed in the manifest, not in the bag",
                                    path=f"{path}/{rel}"))
    for rel in sorted(only_on_fs):
        res.problems.append(Problem("error", "bag-file-unexpected", "in the bag, not in any manifest",
                                    path=f"{path}/{rel}"))
    if not fast:
        gone = set(only_in_manifests)
        for rel, hashes in sorted(bag.entries.items()):
            if rel in gone:
                continue
            p = path / rel
            if not p.is_file():
                res.problems.append(Problem("error", "bag-file-missing", "listed in a manifest, not in the bag",
                                            path=f"{path}/{rel}"))
                continue
            got, _ = hash_file(p, hashes)
            bad = [alg for alg in sorted(got) if got[alg] != hashes[alg].lower()]
            if bad:
                res.problems.append(Problem("error", "bag-file-changed",
                                            f"{', '.join(bad)} differs from the bag's manifest", path=f"{path}/{rel}"))
    if not res.problems:
        res.problems.append(Problem("error", "bag-invalid", message, path=str(path)))
    res.failed = len(res.problems)
    res.done = max(0, n_files - res.failed)
    res.exit_code = ExitCode.FIXITY_FAILED
    return res
