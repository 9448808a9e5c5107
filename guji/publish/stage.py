"""The `publish` stage: build the search index and catalogue, then publish WORK/build to a target.

``guji run`` calls :func:`run` with ``ctx.out`` (a local folder). ``guji publish`` adds the S3
target options (``--target s3://bucket/prefix --endpoint-url … --region … --addressing-style …``)
and ``--dry-run``. See :mod:`guji.publish.sync` for the order and guarantees.
"""

from __future__ import annotations

import logging

from guji.errors import NotReady
from guji.exitcodes import ExitCode, worst
from guji.settings import S3_SETTINGS, Setting, StageSettings
from guji.stage import StageContext, StageResult

log = logging.getLogger("guji.publish")

SETTINGS = StageSettings("publish", (
    Setting("target", None, "發佈目標：s3://bucket/prefix 或文件夾（默認 --out）", "s3://bucket/prefix, or a folder (default: --out)",
            type="str", nullable=True, option="--target"),
    *S3_SETTINGS,
    Setting("base_url", None, "id 的基礎 URL（默認從 build 讀取）", "base URL of the ids (default: read from the build)",
            type="str", nullable=True, option="--base-url"),
    Setting("dry_run", False, "只列出會改變的，不做改變", "list what would change; change nothing", option="--dry-run"),
    Setting("prune", True, "刪除 build 中已沒有的對象", "remove objects no longer in the build", option="--prune/--no-prune"),
    Setting("threads", 8, "並行傳輸數", "parallel transfers", min=1, max=64, option="--threads"),
    Setting("attempts", 6, "每個對象的上傳嘗試次數", "upload tries per object", min=1),
    Setting("backoff", 0.2, "重試前等待的起始秒數（指數增長）", "first wait before a retry, seconds (grows exponentially)", min=0),
    Setting("multipart_threshold_mb", 16, "大於此大小（MB）分段上傳", "multipart upload above this size, MB", min=5),
    Setting("part_size_mb", 8, "分段大小（MB）", "multipart part size, MB", min=5),
    Setting("s3_max_attempts", 10, "botocore 每個請求自身的重試次數（standard 模式）",
            "botocore's own retries per request (standard mode)", min=1),
))
DEFAULTS = SETTINGS.defaults()


def run(ctx: StageContext) -> StageResult:
    from guji.iiif import uris
    from guji.publish.site import build_index, detect_base_url, write_site
    from guji.fsutil import remove_stale_temps
    from guji.publish.storage import LocalStorage, open_storage
    from guji.publish.sync import collect_for_batch, problems_of, sync

    res = StageResult(stage="publish")
    p = ctx.params("publish", DEFAULTS)
    build = ctx.work / "build"
    if not build.exists():
        raise NotReady(f"{build} not found: run `guji iiif --work {ctx.work}` first")
    batch = ctx.batch()
    base_url = uris.norm_base(p["base_url"] or detect_base_url(build))
    site = ctx.work / "publish" / "site"
    counts, probs = build_index(ctx.work, build, site / uris.search_index_path(), base_url)
    res.problems.extend(probs)
    write_site(site, build, str(batch.institution.get("institution", "") or batch.id), work=ctx.work, batch=batch,
               base_url=base_url)

    files, n_restricted = collect_for_batch(ctx, build, site)
    storage = open_storage(
        out=ctx.out, target=p["target"], endpoint_url=p["endpoint_url"], region=p["region"],
        addressing_style=p["addressing_style"],
        **({"multipart_threshold": int(p["multipart_threshold_mb"] * (1 << 20)),
            "part_size": int(p["part_size_mb"] * (1 << 20)), "max_attempts": int(p["s3_max_attempts"]),
            "max_concurrency": max(1, min(8, int(p["threads"])))} if (p["target"] or "").startswith("s3://") else {}))
    if isinstance(storage, LocalStorage) and not p["dry_run"]:
        remove_stale_temps(storage.root)  # half-written copies of a publication killed mid-way
    log.info("publishing %d files to %s%s", len(files), storage.description, " (dry run)" if p["dry_run"] else "")
    with ctx.reporter.progress("publish", len(files)) as bar:
        rep = sync(storage, files, base_url=base_url, dry_run=bool(p["dry_run"]), prune=bool(p["prune"]),
                   threads=int(p["threads"]), attempts=int(p["attempts"]), backoff=float(p["backoff"]),
                   progress=lambda key, ok: bar.advance(1, key if ok else f"{key} FAILED"))
    rep.restricted_skipped = n_restricted
    res.done = len(rep.uploaded)
    res.skipped = rep.unchanged
    res.failed = len(rep.failed) + len(rep.held_back)
    res.problems.extend(problems_of(rep))
    res.info = {"target": storage.description, "base_url": base_url, "index": counts, **rep.to_dict()}
    if p["dry_run"]:
        res.info["plan"] = rep.plan
    if rep.failed or rep.held_back:
        res.exit_code = worst(res.exit_code, ExitCode.PUBLISH_FAILED)
    return res


def status(ctx: StageContext) -> dict:
    site = ctx.work / "publish" / "site" / "search" / "index.sqlite"
    return {"index": str(site) if site.exists() else "not built"}
