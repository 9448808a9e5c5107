"""Publishing a tree of files to a storage target without ever showing a broken manifest.

Order (each phase finishes, with every object verified, before the next starts):

1. everything a manifest points to: image services (info.json + tiles), annotation pages, MODS, ...
2. manifests — an item's manifest only when every phase-1 object of that item is verified;
3. collections, the search index, the catalogue page and statistics — a collection only when every
   manifest it lists is published.

Objects already at the target with the same size and hash are skipped (a second publish uploads
nothing). Objects of restricted items are never uploaded; objects that are at the target but no
longer in the build are removed (manifests and collections first), unless ``prune`` is off.
Transfers run on a few I/O threads; each is retried with exponential backoff and jitter until it
verifies (size + hash), on top of botocore's own retries for throttling, 5xx and dropped
connections.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from guji.errors import Problem
from guji.fsutil import atomic_write_json, sha256_file
from guji.iiif import uris

log = logging.getLogger("guji.publish")

PHASE_ASSETS, PHASE_MANIFESTS, PHASE_TOP = 1, 2, 3
_MANIFEST_RE = re.compile(r"^iiif/([^/]+)/(?:v\d+/)?manifest\.json$")
_ITEM_COLLECTION_RE = re.compile(r"^iiif/([^/]+)/collection\.json$")
NOT_PUBLISHED = {"build-index.json"}
ITEM_FILE_PREFIXES = ("iiif/images/", "metadata/")  # every file under these belongs to one item
# what a publication consists of: prune never touches anything else on the target (a shared bucket's
# other objects, or a bucket published without a prefix)
PUBLICATION_PREFIXES = ("iiif/", "metadata/", "search/", "stats/", "viewer/", "mirador/")
PUBLICATION_FILES = {"index.html"}


def is_publication_key(key: str) -> bool:
    return key in PUBLICATION_FILES or key.startswith(PUBLICATION_PREFIXES)


@dataclass
class LocalFile:
    key: str
    path: Path
    size: int
    sha256: str
    phase: int
    item: str | None = None


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # key -> last error
    held_back: dict[str, str] = field(default_factory=dict)  # key -> why (dependency failed)
    restricted_skipped: int = 0
    bytes_uploaded: int = 0
    attempts: int = 0
    plan: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would change

    def to_dict(self) -> dict[str, Any]:
        return {"uploaded": len(self.uploaded), "unchanged": self.unchanged, "deleted": len(self.deleted),
                "failed": len(self.failed), "held_back": len(self.held_back),
                "restricted_skipped": self.restricted_skipped, "bytes_uploaded": self.bytes_uploaded,
                "transfer_attempts": self.attempts}


class HashCache:
    """SHA-256 of files keyed by (size, mtime): publishing a large build does not re-hash it all."""

    def __init__(self, path: Path):
        self.path = path
        self.data: dict[str, list] = {}
        if path.exists():
            try:
                self.data = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                self.data = {}

    def sha256(self, p: Path) -> tuple[str, int]:
        st = p.stat()
        k = str(p)
        hit = self.data.get(k)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2], st.st_size
        digest = sha256_file(p)
        self.data[k] = [st.st_size, st.st_mtime_ns, digest]
        return digest, st.st_size

    def save(self) -> None:
        atomic_write_json(self.path, self.data, indent=None)


def classify(key: str, slug_to_item: dict[str, str], items: Iterable[str]) -> tuple[int, str | None]:
    """Phase and owning item of a publication path."""
    m = _MANIFEST_RE.match(key)
    if m:
        return PHASE_MANIFESTS, m.group(1)
    m = _ITEM_COLLECTION_RE.match(key)
    if m:
        return PHASE_TOP, m.group(1)
    parts = key.split("/")
    if key.startswith("iiif/collection/"):
        return PHASE_TOP, None
    if key.startswith("iiif/images/") and len(parts) > 2:
        s = parts[2]
        if s in slug_to_item:
            return PHASE_ASSETS, slug_to_item[s]
        for it in sorted(items, key=len, reverse=True):
            if s.startswith(uris.slug(it) + "_"):
                return PHASE_ASSETS, it
        return PHASE_ASSETS, None
    if key.startswith("iiif/") and len(parts) > 2:
        return PHASE_ASSETS, parts[1]
    if key.startswith("metadata/"):
        name = parts[-1]
        for it in sorted(items, key=len, reverse=True):
            if name.startswith(it + "."):
                return PHASE_ASSETS, it
        return PHASE_ASSETS, None
    return PHASE_ASSETS, None


def collect_for_batch(ctx: Any, build: Path, site: Path | None) -> tuple[list[LocalFile], int]:
    """:func:`collect` for the batch of ``ctx`` (a StageContext): its public items' files, with the
    hash cache ``WORK/publish/hashes.json`` read and saved. Publish and ``guji verify`` share it."""
    from guji.errors import NotReady
    from guji.iiif import uris
    from guji.model import ACCESS_PUBLIC

    batch = ctx.batch()
    restricted = {it.id for it in batch.items if it.access != ACCESS_PUBLIC or not it.ok}
    public = {it.id for it in batch.items} - restricted
    try:
        slug_to_item = {uris.slug(c.id): c.item_id for c in ctx.canvases()}
    except NotReady:
        slug_to_item = {}
    hashes = HashCache(ctx.work / "publish" / "hashes.json")
    files, n_restricted = collect(build, site=site, restricted=restricted, public=public,
                                  slug_to_item=slug_to_item, hashes=hashes)
    hashes.save()
    return files, n_restricted


def collect(build: Path, *, site: Path | None, restricted: set[str], public: set[str],
            slug_to_item: dict[str, str], hashes: HashCache) -> tuple[list[LocalFile], int]:
    """Files to publish (``site`` files go last) and how many restricted-item files were left out."""
    files: list[LocalFile] = []
    skipped = 0
    all_items = restricted | public
    roots = [(build, False)] + ([(site, True)] if site and site.exists() else [])
    for root, top in roots:
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            rel = p.relative_to(root).as_posix()
            if rel in NOT_PUBLISHED or any(part.startswith(".") for part in rel.split("/")):
                continue
            phase, item = (PHASE_TOP, None) if top else classify(rel, slug_to_item, all_items)
            # an allow-list: files of an item that is not (or no longer) a public item of the batch,
            # e.g. one withdrawn from the batch whose old files are still in the build, and item files
            # whose owner cannot be told, are never published
            if not top and ((item is not None and item not in public)
                            or (item is None and rel.startswith(ITEM_FILE_PREFIXES))):
                skipped += 1
                continue
            digest, size = hashes.sha256(p)
            files.append(LocalFile(rel, p, size, digest, phase, item))
    return files, skipped


def references(doc: Any, base_url: str) -> set[str]:
    """Publication paths of the files a IIIF document points to (ids under ``base_url``)."""
    out: set[str] = set()

    def walk(x: Any, parent_key: str | None = None) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                path = uris.path_of(v, base_url) if k in ("id", "@id") and isinstance(v, str) else None
                if path is not None:  # ids are percent-encoded URIs, keys plain paths: compare keys
                    t = x.get("type") or x.get("@type") or ""
                    if t in ("ImageService3", "ImageService2", "iiif:ImageProfile") or "ImageService" in str(t):
                        out.add(path.rstrip("/") + "/info.json")
                    elif t in ("AnnotationPage", "AnnotationCollection") and "items" in x:
                        pass  # embedded in the document, not a separate file
                    elif t not in ("Canvas", "Range", "Annotation", "SpecificResource", "Choice"):
                        out.add(path)
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, parent_key)

    walk(doc)
    return out


def _is_current(storage: Any, remote: Any, f: LocalFile) -> bool:
    if remote is None or remote.size != f.size:
        return False
    if remote.sha256 is not None:
        return remote.sha256 == f.sha256
    if getattr(remote, "etag", None) and hasattr(storage, "expected_etag"):
        return remote.etag == storage.expected_etag(f.path)
    return False


def transfer(storage: Any, f: LocalFile, *, attempts: int = 6, backoff: float = 0.2,
             sleep: Callable[[float], None] = time.sleep) -> tuple[bool, str, int]:
    """Upload and verify one file, retrying with exponential backoff. (ok, last error, attempts)."""
    err = ""
    for n in range(1, attempts + 1):
        try:
            storage.put(f.key, f.path, f.sha256, f.size)
            if storage.verify(f.key, f.path, f.sha256, f.size):
                return True, "", n
            err = "uploaded object did not verify (size or checksum differs)"
        except Exception as e:  # noqa: BLE001 - botocore/OS errors: retried, then reported
            err = f"{type(e).__name__}: {e}"
        log.debug("publish %s: attempt %d failed: %s", f.key, n, err)
        if n < attempts:
            sleep(backoff * (2 ** (n - 1)) * (0.5 + random.random()))
    return False, err, attempts


def sync(storage: Any, files: list[LocalFile], *, base_url: str, dry_run: bool = False, prune: bool = True,
         threads: int = 8, attempts: int = 6, backoff: float = 0.2, progress: Any = None) -> SyncReport:
    rep = SyncReport()
    remote = storage.list()
    local_keys = {f.key for f in files}
    todo = [f for f in files if not _is_current(storage, remote.get(f.key), f)]
    rep.unchanged = len(files) - len(todo)
    stale = sorted(k for k in remote if k not in local_keys and is_publication_key(k)) if prune else []
    if dry_run:
        for f in todo:
            rep.plan.append({"action": "update" if f.key in remote else "add", "key": f.key, "size": f.size,
                             "phase": f.phase})
        for k in stale:
            rep.plan.append({"action": "delete", "key": k, "size": remote[k].size, "phase": 0})
        return rep

    # stale manifests and collections first: never leave one pointing at something deleted
    def top_first(k: str) -> int:
        return 0 if (_MANIFEST_RE.match(k) or k.startswith("iiif/collection/") or _ITEM_COLLECTION_RE.match(k)) else 1

    stale.sort(key=top_first)
    for k in [k for k in stale if top_first(k) == 0]:
        _delete(storage, k, rep)

    by_key = {f.key: f for f in files}
    failed_items: set[str] = set()

    def run(batch: list[LocalFile]) -> None:
        if not batch:
            return
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for f, (ok, err, n) in zip(batch, pool.map(
                    lambda f: transfer(storage, f, attempts=attempts, backoff=backoff), batch)):
                rep.attempts += n
                if ok:
                    rep.uploaded.append(f.key)
                    rep.bytes_uploaded += f.size
                else:
                    rep.failed[f.key] = err
                    if f.item:
                        failed_items.add(f.item)
                if progress is not None:
                    progress(f.key, ok)

    def unavailable(key: str) -> bool:
        return key in rep.failed or key in rep.held_back

    run([f for f in todo if f.phase == PHASE_ASSETS])
    manifests = []
    for f in (f for f in todo if f.phase == PHASE_MANIFESTS):
        bad = [r for r in references(_load_json(f.path), base_url) if r in by_key and unavailable(r)]
        if f.item in failed_items or bad:
            rep.held_back[f.key] = f"item {f.item}: {len(bad) or 'some'} referenced object(s) failed to publish"
        else:
            manifests.append(f)
    run(manifests)
    top = []
    for f in (f for f in todo if f.phase == PHASE_TOP):
        if f.key.endswith(".json") and f.key.startswith("iiif/"):
            refs = references(_load_json(f.path), base_url)
            bad = [r for r in refs if (r in by_key and unavailable(r)) or (r not in by_key and _MANIFEST_RE.match(r))]
            if bad or f.item in failed_items:
                rep.held_back[f.key] = f"lists manifests that are not published: {', '.join(sorted(bad)[:3])}"
                continue
        top.append(f)
    run(top)
    # stale assets go only when everything was published: a held-back manifest leaves the previous
    # one in place, and that one may point at exactly these objects (next clean run prunes them)
    if not rep.failed and not rep.held_back:
        for k in [k for k in stale if top_first(k) == 1]:
            _delete(storage, k, rep)
    storage.commit()
    return rep


def _delete(storage: Any, key: str, rep: SyncReport) -> None:
    try:
        storage.delete(key)
        rep.deleted.append(key)
    except Exception as e:  # noqa: BLE001
        rep.failed[key] = f"delete failed: {type(e).__name__}: {e}"


def _load_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def problems_of(rep: SyncReport) -> list[Problem]:
    out = [Problem("error", "publish-failed", f"{k}: {err}", path=k, stage="publish") for k, err in rep.failed.items()]
    out += [Problem("error", "publish-held-back", f"{k} not published: {why}", path=k, stage="publish")
            for k, why in rep.held_back.items()]
    return out
