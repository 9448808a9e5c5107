"""Atomic file writes and hashing: every stage output goes through these."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

CHUNK = 1 << 20


def _file_mode() -> int:
    """rw for everyone the umask allows (mkstemp would leave 0600: unreadable to a web server)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()


def hash_chunks(chunks: Iterable[bytes], algorithms: Iterable[str] = ("sha256",)) -> tuple[dict[str, str], int]:
    """The one hashing loop: hex digests of a byte stream by each algorithm (hashlib names), and its size."""
    hs = {alg: hashlib.new(alg) for alg in algorithms}
    size = 0
    for chunk in chunks:
        for h in hs.values():
            h.update(chunk)
        size += len(chunk)
    return {alg: h.hexdigest() for alg, h in hs.items()}, size


def hash_file(path: str | os.PathLike, algorithms: Iterable[str] = ("sha256",)) -> tuple[dict[str, str], int]:
    """:func:`hash_chunks` of a file, read in ``CHUNK`` pieces."""
    with open(path, "rb") as f:
        return hash_chunks(iter(lambda: f.read(CHUNK), b""), algorithms)


def sha256_file(path: str | os.PathLike) -> str:
    return hash_file(path)[0]["sha256"]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = False) -> str:
    """Write ``data`` to ``path`` via a temp file in the same folder and a rename.

    A reader (or a re-run after SIGKILL) sees either the old file or the whole new one,
    never a torn write. Returns the SHA-256 of ``data``. ``durable`` also fsyncs (ledger files).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if durable:
            _fsync_dir(path.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return sha256_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str, **kw: Any) -> str:
    return atomic_write_bytes(path, text.encode("utf-8"), **kw)


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, UTF-8, no spaces): for hashing and stable outputs."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2, **kw: Any) -> str:
    text = json.dumps(obj, ensure_ascii=False, indent=indent, sort_keys=False, default=str)
    return atomic_write_text(path, text + "\n", **kw)


class AtomicPath:
    """Context manager giving a temp path to write with any library, renamed into place on success.

    >>> with AtomicPath(out / "page.jpg") as tmp:
    ...     image.save(tmp, "JPEG")
    """

    def __init__(self, path: str | os.PathLike, suffix: str | None = None):
        self.path = Path(path)
        self.suffix = suffix if suffix is not None else self.path.suffix
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".tmp{self.suffix}", dir=self.path.parent)
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.tmp is not None
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            try:
                self.tmp.unlink()
            except FileNotFoundError:
                pass


def remove_stale_temps(root: str | os.PathLike) -> int:
    """Delete temp files left by a killed run (``.name.XXXX.tmp*``). Returns how many."""
    n = 0
    for p in Path(root).rglob(".*.tmp*"):
        if p.is_file() and ".tmp" in p.name:
            try:
                p.unlink()
                n += 1
            except OSError:
                pass
    return n
