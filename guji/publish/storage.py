"""Storage targets behind one interface: a local directory (default) and S3-compatible storage.

Both keep, per object, its size and SHA-256 (S3: object metadata ``x-amz-meta-sha256``; local
directory: the manifest ``.guji/published.json`` in the target), so ``publish`` uploads only what
changed and verifies what it uploaded. Credentials for S3 come only from the standard boto3 chain
(environment, shared config/credentials files, instance roles); they are never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlparse

from guji.errors import GujiError
from guji.exitcodes import ExitCode
from guji.fsutil import AtomicPath, atomic_write_json, sha256_file
from guji.iiif.uris import norm_id

log = logging.getLogger("guji.publish")

IIIF_PRESENTATION = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
IIIF_IMAGE = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'

TYPES = {
    ".json": "application/json", ".jsonld": "application/ld+json", ".xml": "application/xml",
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".webp": "image/webp", ".jp2": "image/jp2", ".tif": "image/tiff", ".tiff": "image/tiff",
    ".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".sqlite": "application/vnd.sqlite3",
    ".pdf": "application/pdf", ".map": "application/json", ".woff2": "font/woff2", ".ico": "image/x-icon",
}


def content_type(key: str) -> str:
    """Content-Type of a publication path (IIIF documents get their JSON-LD profile)."""
    p = PurePosixPath(key)
    if p.name == "info.json" and key.startswith("iiif/images/"):
        return IIIF_IMAGE
    if p.suffix == ".json" and key.startswith("iiif/"):
        return IIIF_PRESENTATION
    if key.endswith(".mods.xml"):
        return "application/mods+xml"
    return TYPES.get(p.suffix.lower()) or mimetypes.guess_type(p.name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    """Tiles rarely change: cache a day; IIIF documents a few minutes; index and pages: revalidate."""
    p = PurePosixPath(key)
    if key.startswith("iiif/images/") and p.suffix in (".jpg", ".png", ".webp", ".jp2"):
        return "public, max-age=86400"
    if key.startswith(("iiif/", "metadata/")):
        return "public, max-age=300"
    return "no-cache"


@dataclass
class RemoteObject:
    key: str
    size: int
    sha256: str | None = None  # None when unknown (object not written by guji)
    etag: str | None = None


class Storage(Protocol):
    """What ``publish`` needs of a target. Keys are publication paths (``iiif/A/manifest.json``)."""

    description: str

    def list(self) -> dict[str, RemoteObject]: ...

    def put(self, key: str, path: Path, sha256: str, size: int) -> None: ...

    def verify(self, key: str, path: Path, sha256: str, size: int) -> bool: ...

    def delete(self, key: str) -> None: ...

    def commit(self) -> None: ...


# -- local directory ----------------------------------------------------------------------------

class LocalStorage:
    """A folder (served by ``guji serve`` or any web server). Writes are atomic renames."""

    MANIFEST = ".guji/published.json"
    # (size, mtime_ns) of each file as publish left it: a file edited in place keeping its size
    # (a same-size edit) has another mtime, so its recorded hash is not trusted and it is copied
    # again. Kept apart from MANIFEST, whose content depends only on what was published.
    STAT_CACHE = ".guji/stat-cache.json"

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.description = f"folder {self.root}"
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, Any]] = {}
        self._stats: dict[str, list[int]] = {}
        mp = self.root / self.MANIFEST
        if mp.exists():
            try:
                self._state = json.loads(mp.read_text("utf-8")).get("objects", {})
            except (OSError, ValueError):
                self._state = {}
        sp = self.root / self.STAT_CACHE
        if sp.exists():
            try:
                self._stats = json.loads(sp.read_text("utf-8"))
            except (OSError, ValueError):
                self._stats = {}

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if not p.is_relative_to(self.root.resolve()):
            raise GujiError(f"refusing to write outside the target: {key}", ExitCode.PUBLISH_FAILED)
        return p

    def list(self) -> dict[str, RemoteObject]:
        out = {}
        for key, st in self._state.items():
            p = self.root / key
            try:
                stat = p.stat()
            except OSError:
                continue  # recorded but gone: will be uploaded again
            size = stat.st_size
            # a size or mtime change means someone edited the file: forget its hash so it is re-copied
            seen = self._stats.get(key)
            edited = size != st["size"] or (seen is not None and seen != [size, stat.st_mtime_ns])
            out[key] = RemoteObject(key, size, None if edited else st["sha256"])
        return out

    def put(self, key: str, path: Path, sha256: str, size: int) -> None:
        dest = self._path(key)
        with AtomicPath(dest) as tmp:
            shutil.copyfile(path, tmp)
        stat = dest.stat()
        with self._lock:
            self._state[key] = {"sha256": sha256, "size": size}
            self._stats[key] = [stat.st_size, stat.st_mtime_ns]

    def verify(self, key: str, path: Path, sha256: str, size: int) -> bool:
        dest = self._path(key)
        return dest.is_file() and dest.stat().st_size == size and sha256_file(dest) == sha256

    def delete(self, key: str) -> None:
        p = self._path(key)
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        root = self.root.resolve()
        for parent in p.parents:  # drop folders left empty
            if parent == root or not parent.is_relative_to(root):
                break
            try:
                parent.rmdir()
            except OSError:
                break
        with self._lock:
            self._state.pop(key, None)
            self._stats.pop(key, None)

    def commit(self) -> None:
        with self._lock:
            state = dict(sorted(self._state.items()))
            stats = {k: v for k, v in sorted(self._stats.items()) if k in state}
        atomic_write_json(self.root / self.MANIFEST, {"objects": state}, indent=None)
        atomic_write_json(self.root / self.STAT_CACHE, stats, indent=None)


# -- S3-compatible --------------------------------------------------------------------------------

def s3_etag(path: Path, part_size: int, multipart_threshold: int) -> str:
    """The ETag S3 gives an object uploaded from ``path`` (MD5, or MD5 of part MD5s + ``-N``)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size < multipart_threshold:
            return hashlib.md5(f.read()).hexdigest()  # noqa: S324 - S3's ETag, not security
        digests = []
        while chunk := f.read(part_size):
            digests.append(hashlib.md5(chunk).digest())  # noqa: S324
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"  # noqa: S324


def parse_s3_target(target: str) -> tuple[str, str]:
    u = urlparse(target)
    if u.scheme != "s3" or not u.netloc:
        raise GujiError(f"--target must look like s3://bucket/prefix, not {target!r}", ExitCode.USAGE)
    prefix = norm_id(u.path.strip("/"))  # keys are plain NFC paths (guji.iiif.uris), as the aws CLI reads s3:// URLs
    return u.netloc, (prefix + "/") if prefix else ""


class S3Storage:
    """Any S3-compatible service (AWS S3, MinIO, Ceph RGW, OSS, COS) through boto3."""

    def __init__(self, target: str, *, endpoint_url: str | None = None, region: str | None = None,
                 addressing_style: str = "auto", max_attempts: int = 10, multipart_threshold: int = 16 << 20,
                 part_size: int = 8 << 20, max_concurrency: int = 4, connect_timeout: float = 10,
                 read_timeout: float = 60):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket, self.prefix = parse_s3_target(target)
        where = f" at {endpoint_url}" if endpoint_url else ""
        self.description = f"s3://{self.bucket}/{self.prefix}{where}"
        cfg = Config(
            region_name=region, retries={"max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": addressing_style}, connect_timeout=connect_timeout, read_timeout=read_timeout,
            max_pool_connections=max(10, max_concurrency * 4),
            # checksums only when the service asks: many S3-compatible servers reject the new defaults
            request_checksum_calculation="when_required", response_checksum_validation="when_required",
        )
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=cfg)
        self.part_size = part_size
        self.multipart_threshold = multipart_threshold
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=part_size,
                                       max_concurrency=max_concurrency, use_threads=True)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def list(self) -> dict[str, RemoteObject]:
        out: dict[str, RemoteObject] = {}
        pag = self.client.get_paginator("list_objects_v2")
        for page in pag.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for o in page.get("Contents", []):
                k = o["Key"][len(self.prefix):]
                out[k] = RemoteObject(k, int(o["Size"]), None, o.get("ETag", "").strip('"'))
        return out

    def head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def put(self, key: str, path: Path, sha256: str, size: int) -> None:
        extra = {"ContentType": content_type(key), "CacheControl": cache_control(key),
                 "Metadata": {"sha256": sha256}}
        self.client.upload_file(str(path), self.bucket, self._key(key), ExtraArgs=extra, Config=self.transfer)

    def expected_etag(self, path: Path) -> str:
        return s3_etag(path, self.part_size, self.multipart_threshold)

    def verify(self, key: str, path: Path, sha256: str, size: int) -> bool:
        """HEAD the object: size, our SHA-256 metadata, and the ETag S3 computed from the bytes it got."""
        h = self.head(key)
        if h is None:
            return False
        etag = h.get("ETag", "").strip('"')
        return (int(h.get("ContentLength", -1)) == size and h.get("Metadata", {}).get("sha256") == sha256
                and etag == self.expected_etag(path) and h.get("ContentType") == content_type(key))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def commit(self) -> None:
        pass

    def set_cors(self, origins: list[str], max_age: int = 3600) -> dict[str, Any]:
        rules = {"CORSRules": [{
            "AllowedOrigins": origins, "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Content-Length", "Content-Type"], "MaxAgeSeconds": max_age}]}
        self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration=rules)
        return rules

    def get_cors(self) -> dict[str, Any]:
        return {"CORSRules": self.client.get_bucket_cors(Bucket=self.bucket).get("CORSRules", [])}


def open_storage(*, out: Path | None, target: str | None, endpoint_url: str | None = None,
                 region: str | None = None, addressing_style: str | None = None, **kw: Any) -> Storage:
    if target and target.startswith("s3://"):
        return S3Storage(target, endpoint_url=endpoint_url or os.environ.get("GUJI_S3_ENDPOINT_URL"),
                         region=region, addressing_style=addressing_style or "auto", **kw)
    if target and not target.startswith("s3://"):
        return LocalStorage(Path(target))
    if out is None:
        raise GujiError("give --out DIR or --target s3://bucket/prefix", ExitCode.USAGE)
    return LocalStorage(out)
