"""Benchmark: `guji package` of a synthetic 1 000-page item against `sha256sum` of the same files.

Builds a work folder by hand (batch.json, canvases.json, the fixity ledger and clean records in the
state store; masters of random bytes, three derivatives per page) — no image decoding is involved
in packaging, so the content does not matter, only the sizes. Then, alternating, several times:

- `guji package --work W --out BAGS --force` in a subprocess (copy of every file, SHA-256 and
  SHA-512 of every copy by bagit, comparison with the recorded hashes, METS with ~4 000 PREMIS
  events): wall time, MB/s of payload, peak RSS of the process;
- `sha256sum` over the same payload files (the raw baseline: one read + one hash).

Memory must stay flat: the same is measured for a 100-page item, and the peak RSS of the two
must be close (the hashes stream in 512 KiB blocks; only the METS tree grows with the page count).

    .venv/bin/python bench/bench_package.py [--pages 1000] [--master-kb 1024] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from guji.fsutil import atomic_write_json, sha256_file  # noqa: E402
from guji.model import Batch, Canvas, Derivative, Item, Page, Volume  # noqa: E402
from guji.state import StateStore, fingerprint  # noqa: E402

ITEM = "350000-9999-0000001"


def make_work(root: Path, pages: int, master_kb: int) -> tuple[Path, list[Path]]:
    batch_dir, work = root / "batch", root / "work"
    rnd = os.urandom(1 << 20)
    vols = []
    canvases = []
    files: list[Path] = []
    store = StateStore(work)
    ledger = []
    per_vol = 100
    for vseq in range(1, (pages + per_vol - 1) // per_vol + 1):
        vol = Volume(id=f"{ITEM}/v{vseq:02d}", item_id=ITEM, label=f"v{vseq:02d}", seq=vseq)
        for seq in range(1, min(per_vol, pages - (vseq - 1) * per_vol) + 1):
            rel = f"{ITEM}/v{vseq:02d}/{seq:04d}.tif"
            p = batch_dir / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            size = master_kb * 1024
            with open(p, "wb") as f:
                f.write(os.urandom(16))  # unique content per page
                left = size - 16
                while left > 0:
                    f.write(rnd[:min(left, len(rnd))])
                    left -= len(rnd)
            digest = sha256_file(p)
            page = Page(id=f"{vol.id}/{seq:04d}", item_id=ITEM, volume_id=vol.id, seq=seq, master=rel, sha256=digest,
                        size=size, format="TIFF", width=6000, height=8000, bit_depth=8, mode="RGB",
                        ppi=(600.0, 600.0), compression="raw")
            vol.pages.append(page)
            ledger.append((page.id, rel, digest, size))
            files.append(p)
            outputs = {}
            ders = {}
            for kind, ext, kb in (("access", "access.jpg", 200), ("ocr", "ocr.png", 120), ("thumbnail", "thumb.jpg", 12)):
                drel = f"clean/{ITEM}/v{vseq:02d}/{seq:04d}.{ext}"
                dp = work / drel
                dp.parent.mkdir(parents=True, exist_ok=True)
                dp.write_bytes(os.urandom(16) + rnd[: kb * 1024 - 16])
                outputs[drel] = sha256_file(dp)
                ders[kind] = Derivative(path=drel, width=1500, height=2000, sha256=outputs[drel])
                files.append(dp)
            canvases.append(Canvas(id=page.id, page_id=page.id, item_id=ITEM, volume_id=vol.id,
                                   order=len(canvases) + 1, access=ders["access"], ocr=ders["ocr"],
                                   thumbnail=ders["thumbnail"]))
            store.record("clean", page.id, fingerprint=fingerprint({"master": digest}, {}, {"bench": "1"}),
                         inputs={"master": digest}, params={}, tools={"bench": "1"}, outputs=outputs)
        vols.append(vol)
    store.record_masters(ledger)
    store.close()
    item = Item(id=ITEM, folder=ITEM, census_no=ITEM, record={"题名卷数": "合成測試書一千葉"}, volumes=vols)
    batch = Batch(id="bench", root=str(batch_dir.resolve()),
                  config={"batch": {"id": "bench", "institution": "測試圖書館", "institution_code": "350000-9999",
                                    "operator": "bench"}}, items=[item])
    atomic_write_json(work / "ingest" / "batch.json", batch.to_dict())
    atomic_write_json(work / "clean" / "canvases.json", {"canvases": [c.to_dict() for c in canvases]})
    return work, files


def run_package(work: Path, out: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `guji package` process."""
    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    pid = subprocess.Popen([sys.executable, "-m", "guji", "package", "--work", str(work), "--out", str(out), "--force",
                            "-q"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                           stderr=subprocess.DEVNULL).pid
    _, status, ru = os.wait4(pid, 0)
    dt = time.perf_counter() - t
    assert os.waitstatus_to_exitcode(status) == 0, "guji package failed"
    return dt, ru.ru_maxrss


def run_sha256sum(files: list[Path]) -> float:
    t = time.perf_counter()
    with open(os.devnull, "wb") as null:
        for i in range(0, len(files), 500):  # argv size
            subprocess.run(["sha256sum", *map(str, files[i:i + 500])], stdout=null, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--small", type=int, default=100, help="pages of the item for the memory comparison")
    ap.add_argument("--master-kb", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min), "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        root = Path(tmp)
        small_work, _ = make_work(root / "small", a.small, a.master_kb)
        work, files = make_work(root / "big", a.pages, a.master_kb)
        payload = sum(f.stat().st_size for f in files)
        mb = payload / 1e6
        print(f"item: {a.pages} pages, {len(files)} payload files, {mb:.0f} MB "
              f"(masters {a.master_kb} KiB, 3 derivatives per page)")
        _, rss_small = run_package(small_work, root / "bags-small")
        pk, base, rss = [], [], []
        for n in range(a.rounds):
            dt, r = run_package(work, root / "bags")
            pk.append(dt)
            rss.append(r)
            base.append(run_sha256sum(files))
            print(f"  round {n + 1}: guji package {dt:.2f} s ({mb / dt:.0f} MB/s, peak RSS {r / 1024:.0f} MiB); "
                  f"sha256sum {base[-1]:.2f} s ({mb / base[-1]:.0f} MB/s); ratio {dt / base[-1]:.2f}; "
                  f"load {os.getloadavg()[0]:.1f}")
        best_pk, best_base = min(pk), min(base)
        print(f"guji package: {mb / best_pk:.0f} MB/s best of {a.rounds} (copy + SHA-256 + SHA-512 + METS)")
        print(f"sha256sum:    {mb / best_base:.0f} MB/s best of {a.rounds} (read + SHA-256)")
        ratios = sorted(p / b for p, b in zip(pk, base))
        print(f"ratio package / sha256sum time: best-of {best_pk / best_base:.2f}, "
              f"median of rounds {ratios[len(ratios) // 2]:.2f}")
        print(f"peak RSS: {a.small} pages {rss_small / 1024:.0f} MiB, {a.pages} pages {max(rss) / 1024:.0f} MiB "
              f"(payload {mb:.0f} MB)")
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"bench process itself: peak RSS {usage / 1024:.0f} MiB")
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
