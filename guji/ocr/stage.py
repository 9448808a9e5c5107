"""The `ocr` stage: layout + recognition of every canvas's OCR image, page model in master pixels.

Input: ``WORK/clean/canvases.json`` (the ``ocr`` derivative of each canvas and its ``to_master``
affine). Output per canvas: ``WORK/ocr/<item>/<canvas-slug>.{json,alto.xml,hocr,txt}``.
Parameters (``[ocr]`` in batch.toml, or command-line options) are listed in ``DEFAULTS``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from guji.errors import Problem
from guji.model import PROFILE_LOCAL_DOCUMENT, PROFILE_RARE_BOOK, box_to_master, canvas_slug
from guji.settings import ENGINE_PLUGIN, Setting, StageSettings
from guji.stage import PageTask, StageContext, StageResult, TaskOutput, run_tasks

STAGE = "ocr"
OCR_VERSION = "9"  # bump when the page model or layout logic changes outputs

SETTINGS = StageSettings("ocr", (
    Setting("engine", "rapidocr", "識別引擎（rapidocr：wheel 自帶 PP-OCRv6 模型，從不下載）",
            "recognition engine (rapidocr: PP-OCRv6 models shipped in its wheel, never downloads)",
            choices=("rapidocr", "tesseract"), pattern=ENGINE_PLUGIN, pattern_doc="module:factory (plugin)",
            option="--engine"),
    Setting("layout", "auto", "文字方向（auto：按書的 profile，否則自動判斷）",
            "text direction (auto: from the item's profile, else detected)",
            choices=("auto", "vertical-rtl", "horizontal"), option="--layout"),
    Setting("mode", "layout", "layout：版面分析（欄、雙行小注、版心）；page：整頁交給引擎",
            "layout: layout-aware reading (columns, notes, centre column); page: engine on the whole page",
            choices=("layout", "page"), option="--mode"),
    Setting("upscale", "auto", "識別前放大倍數，或 auto（字欄細於 40 像素時放大 2 倍）",
            "upscale factor before OCR, or auto (2× when columns are thinner than 40 px)",
            choices=("auto",), number=True, option="--upscale"),
    Setting("tesseract_vertical", "chi_tra_vert", "Tesseract 直排語言包", "Tesseract language pack for vertical text"),
    Setting("tesseract_horizontal", "chi_tra", "Tesseract 橫排語言包（簡體文獻用 chi_sim）",
            "Tesseract language pack for horizontal text (chi_sim for simplified documents)"),
    Setting("alternatives", True, "在 JSON 中保留每字前 5 個候選及概率（檢索會用）",
            "keep each character's top-5 readings with probabilities in the JSON (search uses them)"),
    Setting("lm", "auto", "字符語言模型重排序：auto（有 guji/ocr/data/charlm.npz 時）、off 或模型文件",
            "character-LM re-ranking: auto (when guji/ocr/data/charlm.npz exists), off, or a model file",
            choices=("auto", "off"), pattern=r".+\.npz", pattern_doc="a model file (.npz)", option="--lm"),
    Setting("rec_pixels", "ocr-image", "識別讀取的像素：ocr-image（清理階段的 OCR 圖）、master（從原圖切字欄，"
            "一次雙線性重採樣）或 auto（OCR 圖未比原圖縮小超過 1.25 倍時用原圖）",
            "pixels the recogniser reads: ocr-image (the clean stage's OCR image), master (segments cut from the "
            "master, resampled once bilinearly) or auto (the master unless the OCR image reduces it by more than 1.25×)",
            choices=("ocr-image", "master", "auto")),
    Setting("script", "auto", "保留的文字：han（漢字與標點：古籍不印拉丁字母、數字、假名，識別成這些的字改取最佳漢字候選，"
            "沒有則刪去）、any（全部保留）或 auto（善本 han，地方文獻 any）",
            "readings kept: han (Han characters and punctuation: an ancient book prints no Latin letters, digits or "
            "kana, so such a reading takes its best Han candidate or is dropped), any (all), or auto (rare books han, "
            "local documents any)", choices=("auto", "han", "any"), option="--script"),
    Setting("lm_weight", 0.1, "語言模型對數概率的權重", "weight of the LM log-probability against the recogniser's", min=0),
))
DEFAULTS: dict[str, Any] = SETTINGS.defaults()


def _direction(layout: str, profile: str | None) -> str:
    if layout in ("vertical-rtl", "horizontal"):
        return layout
    if profile == PROFILE_RARE_BOOK:
        return "vertical-rtl"
    if profile == PROFILE_LOCAL_DOCUMENT:
        return "horizontal"
    return "auto"


def _script(setting: str, profile: str | None) -> str:
    if setting != "auto":
        return setting
    return {PROFILE_RARE_BOOK: "han", PROFILE_LOCAL_DOCUMENT: "any"}.get(profile or "", "auto")


def _engine(params: dict[str, Any]):
    from guji.ocr.engines import get_engine

    return get_engine(str(params["engine"]), str(params["tesseract_vertical"]), str(params["tesseract_horizontal"]))


def tools(params: dict[str, Any]) -> dict[str, str]:
    import cv2

    t = {"opencv": cv2.__version__, "guji-ocr": OCR_VERSION, **_engine(params).describe()}
    if str(params.get("lm", "off")) != "off":
        from guji.ocr.lm import load_default

        model = load_default(None if params["lm"] == "auto" else Path(str(params["lm"])))
        t.update(model.describe() if model else {"lm": "absent"})
    return t


def run(ctx: StageContext) -> StageResult:
    params = ctx.params(STAGE, DEFAULTS)
    canvases = ctx.canvases()
    batch = ctx.batch()
    pages = {p.id: p for p in batch.pages(ok_only=False)}
    profiles = {it.id: it.profile for it in batch.items}
    tl = tools(params)  # loads the engine here: a missing engine stops the run with exit code 6
    tasks = []
    result_problems: list[Problem] = []
    for c in canvases:
        if c.ocr is None:
            result_problems.append(Problem("warning", "ocr-no-image", "canvas has no OCR image; not read",
                                           item=c.item_id, page=c.id, stage=STAGE))
            continue
        page = pages.get(c.page_id)
        inputs = {"ocr": c.ocr.sha256 or c.ocr.path}
        master = None
        if page is not None and _reads_master(str(params["rec_pixels"]), c.ocr.to_master):
            master = str(Path(batch.root) / page.master)
            inputs["master"] = page.sha256 or f"{page.master}:{page.size}"
        tasks.append(PageTask(
            key=c.id, inputs=inputs, item_id=c.item_id,
            payload={"canvas": c.id, "page": c.page_id, "item": c.item_id, "image": c.ocr.path, "master": master,
                     "to_master": list(c.ocr.to_master),
                     "master_size": [page.width, page.height] if page else [c.ocr.width, c.ocr.height],
                     "ppi": list(page.ppi) if page and page.ppi else None,
                     "profile": profiles.get(c.item_id),
                     "slug": canvas_slug(c.id, c.item_id),
                     # clean's printed frame (版框) in OCR-image pixels: the measured one is used
                     "frame": [c.frame[0] * c.ocr.width, c.frame[1] * c.ocr.height,
                               c.frame[2] * c.ocr.width, c.frame[3] * c.ocr.height] if c.frame else None}))
    res = run_tasks(ctx, STAGE, tasks, worker, params=params, tools=tl, description="ocr")
    from guji.proofread import sync_ocr  # corrections changed, recognition current: re-derive, never re-read

    res.problems = result_problems + res.problems + sync_ocr(ctx, STAGE, tasks)
    res.info.update(status(ctx))
    return res


MASTER_MAX_REDUCTION = 1.25  # rec_pixels auto: the master is read when it is at most this × the OCR image


def _reads_master(setting: str, to_master: Any) -> bool:
    """Whether the recogniser reads the master: ``auto`` when the OCR image is not a real reduction
    of it (master pixels per OCR-image pixel ≤ :data:`MASTER_MAX_REDUCTION`: enlarged, deskewed or
    same-size pages, whose OCR image only adds resampling blur and tone changes; dzj-dev through
    the pipeline, CER see docs/ocr.md); large masters are read from the OCR image, which clean
    reduced with area averaging."""
    if setting == "ocr-image":
        return False
    if setting == "master":
        return True
    a, b, _, d, e, _ = to_master
    return max(math.hypot(a, d), math.hypot(b, e)) <= MASTER_MAX_REDUCTION


def _master_source(path: str, to_master: Any, scale: float, engine: Any):
    """The recogniser's crop source on the master: detection-image pixels → master pixels."""
    import cv2

    from guji.affine import compose_affine
    from guji.clean.derivatives import load_master
    from guji.ocr.recognize import CropSource

    img, _, _ = load_master(path)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    m = compose_affine(tuple(to_master), (1.0 / scale, 0.0, 0.0, 0.0, 1.0 / scale, 0.0))
    return CropSource(img, to_source=m, out_height=engine.input_height)


def worker(task: PageTask) -> TaskOutput:
    import cv2

    from guji.ocr import page as P
    from guji.ocr.recognize import prepare, read_image

    p = task.payload
    prm = p["_params"]
    work = Path(p["_work"])
    img = cv2.imread(str(work / p["image"]), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot read OCR image {p['image']}")
    engine = _engine(prm)
    prep = prepare(img, prm["upscale"], engine)
    s = prep.scale
    problems = []
    if p.get("master"):
        try:
            prep.source = _master_source(p["master"], p["to_master"], s, engine)
        except Exception as e:  # noqa: BLE001 - the OCR image is still there: read it instead
            problems.append(Problem("warning", "ocr-master-unreadable",
                                    f"{p['master']}: master not readable for recognition ({e}); the OCR image was read",
                                    item=p["item"], page=p["canvas"], stage=STAGE))
    direction = _direction(str(prm["layout"]), p.get("profile"))
    regions, centre, facts, kind, frame = read_image(prep, engine, mode=str(prm["mode"]), direction=direction,
                                                     lm=prm.get("lm", "auto"), lm_weight=prm.get("lm_weight"),
                                                     script=_script(str(prm.get("script", "auto")), p.get("profile")))
    m = tuple(p["to_master"])

    def tm(b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        return box_to_master(m, (b[0] / s, b[1] / s, b[2] / s, b[3] / s))

    for r in regions:
        r.box = tm(r.box)
        for ln in r.lines:
            ln.box = tm(ln.box)
            for c in ln.chars:
                c.box = tm(c.box)
    size = None
    if p.get("frame"):  # clean measured the frame (版框) on the deskewed page: its size is the one kept
        size = (round(p["frame"][2] * math.hypot(m[0], m[3])), round(p["frame"][3] * math.hypot(m[1], m[4])))
        facts["frame_source"] = "clean"
    elif frame is not None:
        size = tm(frame)[2:]
    if size is not None:
        fw, fh = size
        facts["frame_px"] = [fw, fh]
        if p.get("ppi"):
            px, py = p["ppi"]
            if px and py:
                facts["frame_cm"] = [round(fw / px * 2.54, 1), round(fh / py * 2.54, 1)]
    lang = "zh-Hant" if kind == "vertical-rtl" or str(prm["tesseract_horizontal"]).startswith("chi_tra") else "zh-Hans"
    pm = P.PageModel(p["canvas"], p["page"], p["item"], engine.name, engine.version, kind, lang,
                     tuple(p["master_size"]), regions, centre, facts)
    if not pm.text.strip():
        pm.flags.append("ocr-empty")
        problems.append(Problem("warning", "ocr-empty", "no text recognised (blank or unreadable page)",
                                item=p["item"], page=p["canvas"], stage=STAGE))
    else:
        low = sum(1 for ln in pm.lines() for c in ln.chars if c.low)
        if low:
            pm.flags.append("ocr-low-confidence-chars")
        mc = pm.mean_confidence()
        if mc is not None and mc < 0.6:
            pm.flags.append("ocr-low-confidence")
    from guji.proofread import ocr_processing, write_ocr_outputs

    base = Path(STAGE) / p["item"] / p["slug"]
    d = pm.to_dict(alternatives=bool(prm.get("alternatives", True)))
    name = Path(p["image"]).name
    # provenance carried by the renderings (ALTO Processing, PAGE MetadataItem, hOCR meta): what made them;
    # people's corrections (guji/proofread.py) are applied here when the canvas has any
    processing = ocr_processing(engine.name, engine.version, prm)
    outputs, proofread_info, proofread_problems = write_ocr_outputs(work, str(base), pm, d, name, processing)
    problems.extend(proofread_problems)
    info = {"empty": "ocr-empty" in pm.flags, "mean_confidence": pm.mean_confidence(),
            "chars": sum(len(ln.text) for ln in pm.lines()), "flags": pm.flags, **proofread_info}
    return TaskOutput(outputs=outputs, info=info, problems=problems)


def status(ctx: StageContext) -> dict[str, Any]:
    """Pages done, empty pages and mean confidence from the state store."""
    recs = [r for r in ctx.store.records(STAGE) if r.status == "ok"]
    confs = [r.info.get("mean_confidence") for r in recs if r.info.get("mean_confidence") is not None]
    return {"pages_done": len(recs), "pages_failed": sum(1 for r in ctx.store.records(STAGE) if r.status != "ok"),
            "empty_pages": sum(1 for r in recs if r.info.get("empty")),
            "mean_confidence": round(sum(confs) / len(confs), 4) if confs else None}
