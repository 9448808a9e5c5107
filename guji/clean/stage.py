"""The `clean` stage: deskew, crop, split spreads, upright, derivatives and scan QC.

One task per ok page (``run_tasks``). The worker reads the master (never writes it), analyses
the geometry on a reduced copy (:mod:`guji.clean.geometry`), writes per canvas an access JPEG,
an OCR PNG and a thumbnail, and returns the canvases and the page's QC metrics in ``info``.
After all tasks, ``canvases.json`` and the QC reports are rebuilt from the state records, so a
resumed run writes the same files.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.fsutil import atomic_write_bytes, atomic_write_json
from guji.model import CANVASES_JSON, PROFILE_LOCAL_DOCUMENT, Canvas, Derivative, canvas_slug
from guji.settings import Setting, StageSettings
from guji.stage import PageTask, StageContext, StageResult, TaskOutput, run_tasks

log = logging.getLogger("guji")

STAGE = "clean"
ALGORITHM_VERSION = "6"  # bump when the analysis or rendering changes outputs (in the fingerprint)
# keys that only decide QC flags (not images): kept out of the task fingerprint
QC_KEY = "qc"
SETTINGS = StageSettings("clean", (
    Setting("access_quality", 90, "閱覽圖 JPEG 品質", "JPEG quality of the access image", min=1, max=100,
            option="--access-quality"),
    Setting("access_scale", 1.0, "閱覽圖相對原圖的大小", "access image size relative to the master", min=0.01, max=1.0),
    Setting("thumb_size", 300, "縮略圖長邊（像素）", "long side of the thumbnail, px", min=16),
    Setting("ocr_mode", "grey", "OCR 圖：灰度（背景拉平）或二值", "OCR image: normalised greyscale or binarised",
            choices=("grey", "binary"), option="--ocr-mode"),
    Setting("ocr_char_px", 40, "縮放 OCR 圖使字高約為此像素（0 = 不縮放）",
            "scale the OCR image so characters are about this many px high (0 = off)", type="float", min=0,
            option="--ocr-char-px"),
    Setting("ocr_scale", 0.0, "固定的 OCR 圖縮放比例（0 = 按 ocr_char_px）", "fixed OCR image scale instead (0 = use ocr_char_px)",
            min=0),
    Setting("ocr_min_scale", 0.25, "OCR 圖最小縮放比例", "smallest OCR image scale", min=0.01),
    # 1.0 (never enlarged: OCR upscales small text itself) with [ocr] rec_pixels = "auto" measured
    # no better than 3.0 over page shifts of 0–2 px on dzj-dev (docs/ocr.md, round 4)
    Setting("ocr_max_scale", 3.0, "OCR 圖最大縮放比例", "largest OCR image scale", min=0.01),
    Setting("crop_margin", 0.01, "裁切時在頁面周圍保留的邊距（頁面長邊的比例）",
            "margin kept around the detected page, fraction of its long side", min=0, max=0.5, option="--crop-margin"),
    Setting("max_skew", 8.0, "歪斜檢測範圍（度）", "search range of the skew estimate, degrees", min=0, max=45),
    Setting("rotation", "auto", "auto：文字方向不對的頁轉 90°，魚尾在下的整葉轉 180°，其他疑似倒置只標記；"
            "auto180：這些也轉；或對所有頁固定角度",
            "auto: turn pages whose text lines run the wrong way by 90° and full leaves whose fishtail (魚尾) is in "
            "the lower part by 180°, flag other suspected 180°; auto180: also turn those; or a fixed angle for all",
            choices=("auto", "auto180", "none", "0", "90", "180", "270"), option="--rotation"),
    Setting("text_direction", "profile", "預期文字方向：profile（善本直排，地方文獻不限）、vertical、horizontal、any",
            "expected text direction: profile (rare-book vertical, local-document any), vertical, horizontal, any",
            choices=("profile", "vertical", "horizontal", "any")),
    Setting("split_spreads", True, "拆分跨頁（一圖兩頁）", "split two-page spreads", option="--no-split"),
    Setting("spread_min_aspect", 1.0, "寬高比至少為此值才可能是跨頁", "a page must be this much wider than tall to be a spread",
            min=0),
    Setting("min_side", 8, "短邊小於此像素的圖拒收（報錯並指出文件）", "smaller images are refused (error naming the file), px",
            min=1),
), tables=(QC_KEY,))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()


def _tools() -> dict[str, str]:
    import cv2
    import numpy
    import PIL

    return {"opencv": cv2.__version__, "pillow": PIL.__version__, "numpy": numpy.__version__, "guji-clean": ALGORITHM_VERSION}


def _frame_in(frame_box: tuple[float, float, float, float] | None, box: tuple[float, float, float, float],
              part: str) -> tuple[float, float, float, float] | None:
    """The printed frame (work space) as fractions of a canvas's crop ``box``, for OCR's layout. Only
    for whole pages: on a spread the frame found spans both halves, so it says nothing per half."""
    if frame_box is None or part != "full":
        return None
    fx, fy, fw, fh = frame_box
    x0, y0 = max(fx, box[0]), max(fy, box[1])
    x1, y1 = min(fx + fw, box[0] + box[2]), min(fy + fh, box[1] + box[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return (round((x0 - box[0]) / box[2], 5), round((y0 - box[1]) / box[3], 5),
            round((x1 - x0) / box[2], 5), round((y1 - y0) / box[3], 5))


def worker(task: PageTask) -> TaskOutput:
    import cv2
    import numpy as np

    from guji.clean import derivatives as D
    from guji.clean import geometry as G

    p = task.payload
    prm = p["_params"]
    work = Path(p["_work"])
    master = Path(p["master_path"])
    rel_master = p["master"]
    img, src_flags, notes = D.load_master(master)
    H, W = img.shape[:2]
    if min(H, W) < int(prm["min_side"]):
        raise ValueError(f"{rel_master}: image too small to clean ({W}×{H} px, minimum side {prm['min_side']})")
    direction = prm["text_direction"]
    if direction == "profile":
        # rare books: vertical columns; local documents mix modern horizontal and old vertical
        # text, so their text direction is not assumed (no 90° turn from an expectation)
        direction = "any" if p["profile"] == PROFILE_LOCAL_DOCUMENT else "vertical"
    rot_mode = str(prm["rotation"]).lower()
    rot_mode = "0" if rot_mode in ("none", "off", "false") else rot_mode
    # one shared reduced greyscale copy (an.small) serves every measure; no full-size grey copy
    an = G.analyse(img, max_skew=float(prm["max_skew"]), expected_direction=direction, rotation_mode=rot_mode,
                   detect_spreads=bool(prm["split_spreads"]), spread_min_aspect=float(prm["spread_min_aspect"]),
                   margin=float(prm["crop_margin"]))
    skew = an.skew_deg

    # metrics on the reduced grey copy, inside the page (bed excluded)
    small, paper = an.small, an.paper
    on_paper = paper is not None and bool((paper > 0).any())
    mask = paper if on_paper else None
    hist = cv2.calcHist([small], [0], mask, [256], [0, 256]).ravel().astype(np.int64)  # grey levels on the page
    n_reg = max(1, int(hist.sum()))
    lap = cv2.Laplacian(small, cv2.CV_32F)  # integer values: exact in float32
    lapv = float(cv2.meanStdDev(lap, mask=mask)[1][0, 0]) ** 2
    ppi = p.get("ppi")
    metrics: dict[str, Any] = {
        "ppi": round(min(ppi), 1) if ppi else None,
        "bits": int(p.get("bit_depth") or 8) * (3 if p.get("mode") in ("RGB", "YCbCr", "LAB", "HSV") else
                                                  4 if p.get("mode") in ("CMYK", "RGBA") else 1),
        "mode": p.get("mode"), "format": p.get("format"), "compression": p.get("compression"),
        "sharpness": round(lapv, 2),
        "clipped_highlights": round(float(hist[254:].sum() / n_reg), 5),
        "clipped_shadows": round(float(hist[:2].sum() / n_reg), 5),
        "skew_deg": round(an.skew_deg, 3), "skew_source": an.skew_source,
        "rotation": an.rotation, "rotation_confidence": round(an.rotation_confidence, 3),
        "upside_down_confidence": an.upside_down_confidence,
        "text_direction": an.text_direction,
        "crop_confidence": an.crop_confidence, "ink_fraction": round(an.ink_fraction, 5),
        "bed": an.bed, "char_px": an.char_px,
        "page_box": list(an.page_box), "crop_box": list(an.crop_box),
        "frame_box": list(an.frame_box) if an.frame_box else None, "gutter_x": an.gutter_x,
        "source_flags": src_flags, "notes": notes + an.notes, "size": [W, H],
    }

    # canvases: split the crop box at the gutter
    cx, cy, cw, ch = an.crop_box
    parts: list[tuple[str, tuple[float, float, float, float]]]
    if an.gutter_x is not None and cx < an.gutter_x < cx + cw:
        g = round(an.gutter_x)
        right = ("right", (float(g), cy, cx + cw - g, ch))
        left = ("left", (cx, cy, g - cx, ch))
        parts = [left, right] if p["profile"] == PROFILE_LOCAL_DOCUMENT else [right, left]
    else:
        parts = [("full", an.crop_box)]

    paper_grey = D.median_u8(hist=hist)
    border: Any = paper_grey if img.ndim == 2 else tuple(
        float(v) for v in np.median(img[:: max(1, H // 200), :: max(1, W // 200)].reshape(-1, 3), axis=0))
    outputs: dict[str, str] = {}
    canvases: list[dict[str, Any]] = []
    rel_dir = Path("clean") / p["volume_id"]  # = item/volume label (ingest's volume id)
    for part, box in parts:
        cid = p["page_id"] + {"full": "", "right": "-r", "left": "-l"}[part]
        base = rel_dir / canvas_slug(cid, p["volume_id"])
        s_acc = float(prm["access_scale"])
        aw, ah = max(1, round(box[2] * s_acc)), max(1, round(box[3] * s_acc))
        m_acc = G.derivative_affine(W, H, an.rotation, skew, box, 1.0) @ G.scale(box[2] / aw, box[3] / ah)
        acc = D.crop_rotate(img, m_acc, (aw, ah), border)
        outputs[str(base) + ".access.jpg"] = atomic_write_bytes(work / (str(base) + ".access.jpg"),
                                                                D.encode_jpeg(acc, int(prm["access_quality"])))
        # OCR image: scale so characters are about ocr_char_px high
        if float(prm["ocr_scale"]) > 0:
            so = float(prm["ocr_scale"])
        elif float(prm["ocr_char_px"]) > 0 and an.char_px:
            so = float(prm["ocr_char_px"]) / an.char_px
        else:
            so = 1.0
        so = min(max(so, float(prm["ocr_min_scale"])), float(prm["ocr_max_scale"]))
        ow, oh = max(1, round(box[2] * so)), max(1, round(box[3] * so))
        m_ocr = G.derivative_affine(W, H, an.rotation, skew, box, 1.0) @ G.scale(box[2] / ow, box[3] / oh)
        ts = min(1.0, int(prm["thumb_size"]) / max(aw, ah))
        tw, th = max(1, round(aw * ts)), max(1, round(ah * ts))
        # OCR image and thumbnail both come from the access image; the exact halvings they share
        # are done once, in colour (the thumbnail needs colour)
        mid = D.halve_to(acc, (ow, oh)) if so <= s_acc else acc
        if so <= s_acc:
            og = D.resize(D.to_gray(mid), (ow, oh))
        else:  # enlarge straight from the master (one resampling)
            og = D.crop_rotate(D.to_gray(img), m_ocr, (ow, oh), paper_grey)
        norm = D.normalise_tone(og, an.char_px * so if an.char_px else None)
        if an.bed:  # the crop margin shows scanner bed: make it paper-white for OCR
            px0, py0, pw_, ph_ = an.page_box
            ux0, uy0 = max(0, round((px0 - box[0]) * ow / box[2])), max(0, round((py0 - box[1]) * oh / box[3]))
            ux1, uy1 = round((px0 + pw_ - box[0]) * ow / box[2]), round((py0 + ph_ - box[1]) * oh / box[3])
            norm[:uy0], norm[max(uy1, 0):] = 255, 255
            norm[:, :ux0], norm[:, max(ux1, 0):] = 255, 255
        if prm["ocr_mode"] == "binary":
            norm = D.binarise(norm)
        outputs[str(base) + ".ocr.png"] = atomic_write_bytes(work / (str(base) + ".ocr.png"), D.encode_png(norm))
        thumb = D.resize(mid, (tw, th))
        m_th = m_acc @ G.scale(aw / tw, ah / th)
        outputs[str(base) + ".thumb.jpg"] = atomic_write_bytes(work / (str(base) + ".thumb.jpg"),
                                                               D.encode_jpeg(thumb, 85))
        c = Canvas(
            id=cid, page_id=p["page_id"], item_id=p["item_id"], volume_id=p["volume_id"], order=0, part=part,
            access=Derivative(str(base) + ".access.jpg", aw, ah, G.as_tuple(m_acc), outputs[str(base) + ".access.jpg"]),
            ocr=Derivative(str(base) + ".ocr.png", ow, oh, G.as_tuple(m_ocr), outputs[str(base) + ".ocr.png"]),
            thumbnail=Derivative(str(base) + ".thumb.jpg", tw, th, G.as_tuple(m_th), outputs[str(base) + ".thumb.jpg"]),
            skew_deg=round(an.skew_deg, 3), rotation=an.rotation, frame=_frame_in(an.frame_box, box, part),
        ).to_dict()
        c["_hash"] = D.phash(D.to_gray(thumb))
        c["_size_px"] = [round(box[2]), round(box[3])]
        canvases.append(c)
    problems = []
    for f in src_flags:
        problems.append(Problem("warning", f"clean-{f}", f"{rel_master}: source image is {f}; converted for the "
                                "derivatives", path=rel_master, item=p["item_id"], page=p["page_id"]))
    return TaskOutput(outputs=outputs, info={"canvases": canvases, "metrics": metrics}, problems=problems)


def _tasks(ctx: StageContext) -> list[PageTask]:
    batch = ctx.batch()
    root = Path(batch.root)
    tasks = []
    for item in batch.items:
        if not item.ok:
            continue
        for vol in item.volumes:
            for page in vol.pages:
                if not page.ok:
                    continue
                tasks.append(PageTask(
                    key=page.id, inputs={"master": page.sha256 or f"{page.master}:{page.size}", "profile": item.profile},
                    item_id=item.id,
                    payload={"master_path": str(root / page.master), "master": page.master, "page_id": page.id,
                             "item_id": item.id, "volume_id": vol.id, "volume_label": vol.label,
                             "profile": item.profile, "ppi": list(page.ppi) if page.ppi else None,
                             "bit_depth": page.bit_depth, "mode": page.mode, "format": page.format,
                             "compression": page.compression}))
    return tasks


def run(ctx: StageContext) -> StageResult:
    from guji.clean import qc

    params = ctx.params(STAGE, DEFAULTS)
    qc_over = params.pop(QC_KEY, {}) or {}
    tasks = _tasks(ctx)
    records: dict[str, dict[str, Any]] = {}

    def collect(t: PageTask, out: TaskOutput) -> None:
        records[t.key] = out.info

    res = run_tasks(ctx, STAGE, tasks, worker, params=params, tools=_tools(), description="clean",
                    on_result=collect)
    batch = ctx.batch()
    profiles = {it.id: it.profile for it in batch.items}
    # canvases in item order, then reading order (order 1..n per item across volumes)
    canvases: list[dict[str, Any]] = []
    orders: dict[str, int] = {}
    for t in tasks:
        info = records.get(t.key)
        if not info:
            continue
        for c in info["canvases"]:
            orders[c["item_id"]] = orders.get(c["item_id"], 0) + 1
            c = dict(c)
            c["order"] = orders[c["item_id"]]
            c["_metrics"] = info["metrics"]
            c["_master"] = t.payload["master"]
            canvases.append(c)
    th = {pr: qc.thresholds(pr, qc_over) for pr in sorted(set(profiles.values()) | set(qc.PROFILES))}

    def t_for(c: dict[str, Any]) -> dict[str, Any]:
        return th[profiles.get(c["item_id"], "rare-book")]

    vol_in = [{"id": c["id"], "page_id": c["page_id"], "volume_id": c["volume_id"], "part": c["part"],
               "size_px": c["_size_px"], "hash": c["_hash"], "item_id": c["item_id"],
               "blank": c["_metrics"]["ink_fraction"] < t_for(c)["blank_max_ink"]} for c in canvases]
    vflags = qc.volume_flags(vol_in, t_for)
    rows = []
    out_canvases = []
    for c in canvases:
        m = c["_metrics"]
        flags = qc.page_flags(m, t_for(c))
        if c["part"] != "full":
            flags.append("spread-split")
        flags = sorted(dict.fromkeys(flags + vflags.get(c["id"], [])))
        clean = {k: v for k, v in c.items() if not k.startswith("_")}
        clean["qc_flags"] = flags
        out_canvases.append(Canvas.from_dict(clean).to_dict())
        rows.append({"canvas": c["id"], "page_id": c["page_id"], "item": c["item_id"], "volume": c["volume_id"],
                     "master": c["_master"], "profile": profiles.get(c["item_id"]), "flags": flags,
                     "reshoot": qc.reshoot_reasons(flags), "thumb": c["thumbnail"]["path"],
                     "metrics": {k: v for k, v in m.items() if k != "source_flags"}})
    atomic_write_json(ctx.work / CANVASES_JSON, {"canvases": out_canvases})
    qc.write_reports(ctx.work, rows, th)
    n_re = len({r["page_id"] for r in rows if r["reshoot"]})
    res.info = {"canvases": len(out_canvases), "pages": len(records), "flagged": sum(1 for r in rows if r["flags"]),
                "reshoot_pages": n_re, "qc_report": str(Path("clean") / "qc" / "report.html")}
    return res


def status(ctx: StageContext) -> dict[str, Any]:
    """QC counts for `guji status` (from the QC JSON written by the last run)."""
    import json

    p = ctx.work / "clean" / "qc" / "qc.json"
    if not p.exists():
        return {"qc": "no QC report yet (run `guji clean`)"}
    d = json.loads(p.read_text("utf-8"))
    return {"canvases": d["canvases"], "flagged": d["flagged"], "reshoot_pages": d["reshoot"],
            "flag_counts": d["flag_counts"]}
