"""Proofreading corrections of OCR text: the per-canvas contract and how the OCR stage applies it.

The staff workspace (``guji workspace``) exports one file per canvas that people have corrected:
``WORK/proofread/<item>/<canvas-slug>.json`` = :class:`CanvasCorrections` (``to_dict``/``from_dict``)::

    {"format": "guji-proofread/1", "canvas": "ITEM/v1/0003-r", "item": "ITEM", "version": 3,
     "lines": [{"line": "r1l2", "machine_text": "子日學而", "text": "子曰學而",
                "who": "lib1-proof", "when": "2026-12-02T06:10:00+00:00", "source": "human"}],
     "history": [{"version": 1, "who": "…", "when": "…", "source": "human", "lines": ["r1l2"]}]}

``machine_text`` is the line's text in the recogniser's page model the correction was made on: a
correction whose line is gone or reads differently now (OCR re-run with other settings) is not
applied and reported (``proofread-stale``), never put on another line.

The OCR stage never re-runs recognition for corrections. Its worker writes the page model and its
renderings through :func:`write_ocr_outputs`; when a canvas has corrections it also keeps the
recogniser's own model as ``WORK/ocr-machine/<item>/<canvas-slug>.machine.json`` and writes the corrected
model (JSON, ALTO, PAGE, hOCR, text) in the usual places. After the page tasks, :func:`sync_ocr`
re-derives the outputs of every canvas whose OCR is current but whose corrections changed (from
the stored machine model plus the corrections) and updates the stage's record, so IIIF
annotations, search and packages (which read the page model) carry the corrected text.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guji.errors import BadBatch, Problem

FORMAT = "guji-proofread/1"
SOURCES = ("human", "machine")
PROOFREAD_DIR = "proofread"
MACHINE_DIR = "ocr-machine"


@dataclass
class LineCorrection:
    line: str
    machine_text: str
    text: str
    who: str
    when: str
    source: str = "human"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "machine_text": self.machine_text, "text": self.text, "who": self.who,
                "when": self.when, "source": self.source}


@dataclass
class Version:
    version: int
    who: str
    when: str
    source: str
    lines: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "who": self.who, "when": self.when, "source": self.source,
                "lines": list(self.lines)}


@dataclass
class CanvasCorrections:
    canvas: str
    item: str
    version: int = 0
    lines: list[LineCorrection] = field(default_factory=list)
    history: list[Version] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "canvas": self.canvas, "item": self.item, "version": self.version,
                "lines": [c.to_dict() for c in sorted(self.lines, key=lambda c: c.line)],
                "history": [v.to_dict() for v in self.history]}

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "corrections") -> "CanvasCorrections":
        """Read the contract back; a malformed file raises :class:`BadBatch` naming file and field."""
        def need(obj: dict, key: str, typ: type, ctx: str) -> Any:
            v = obj.get(key) if isinstance(obj, dict) else None
            if not isinstance(v, typ) or isinstance(v, bool) and typ is int:
                raise BadBatch(f"{where}: {ctx}{key} must be {typ.__name__}, got {v!r}")
            return v

        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise BadBatch(f"{where}: not a {FORMAT} file (format {d.get('format') if isinstance(d, dict) else d!r})")
        lines = []
        for i, c in enumerate(need(d, "lines", list, "")):
            ctx = f"lines[{i}]."
            src = need(c, "source", str, ctx)
            if src not in SOURCES:
                raise BadBatch(f"{where}: {ctx}source must be one of {SOURCES}, got {src!r}")
            lines.append(LineCorrection(need(c, "line", str, ctx), need(c, "machine_text", str, ctx),
                                        need(c, "text", str, ctx), need(c, "who", str, ctx), need(c, "when", str, ctx),
                                        src))
        hist = [Version(need(v, "version", int, f"history[{i}]."), need(v, "who", str, f"history[{i}]."),
                        need(v, "when", str, f"history[{i}]."), need(v, "source", str, f"history[{i}]."),
                        [str(x) for x in need(v, "lines", list, f"history[{i}].")])
                for i, v in enumerate(d.get("history") or [])]
        return cls(need(d, "canvas", str, ""), need(d, "item", str, ""), need(d, "version", int, ""), lines, hist)


def corrections_path(work: Path, item: str, canvas: str) -> Path:
    from guji.model import canvas_slug

    return Path(work) / PROOFREAD_DIR / item / f"{canvas_slug(canvas, item)}.json"


def machine_rel(item: str, canvas: str) -> str:
    from guji.model import canvas_slug

    return f"{MACHINE_DIR}/{item}/{canvas_slug(canvas, item)}.machine.json"  # in a bag: ocr/<slug>.machine.json


def load_corrections(work: Path, item: str, canvas: str) -> tuple[CanvasCorrections | None, str | None]:
    """The canvas's corrections and the SHA-256 of their file (None, None without a file)."""
    from guji.fsutil import sha256_bytes

    p = corrections_path(work, item, canvas)
    if not p.is_file():
        return None, None
    raw = p.read_bytes()
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadBatch(f"{p}: not JSON: {e}") from e
    return CanvasCorrections.from_dict(d, str(p)), sha256_bytes(raw)


def write_corrections(work: Path, corr: CanvasCorrections) -> str:
    from guji.fsutil import atomic_write_text

    p = corrections_path(work, corr.item, corr.canvas)
    return atomic_write_text(p, json.dumps(corr.to_dict(), ensure_ascii=False, indent=1) + "\n")


# -- applying corrections to a page model ---------------------------------------------------------

def _split_box(box: list[int], n: int, direction: str) -> list[list[int]]:
    x, y, w, h = box
    if n <= 0:
        return []
    if direction == "ttb":
        return [[x, y + h * i // n, w, max(1, h * (i + 1) // n - h * i // n)] for i in range(n)]
    return [[x + w * i // n, y, max(1, w * (i + 1) // n - w * i // n), h] for i in range(n)]


def apply(doc: dict[str, Any], corr: CanvasCorrections | None) -> tuple[dict[str, Any], list[Problem]]:
    """The page model JSON ``doc`` with ``corr`` applied (a new dict; ``doc`` is not changed).

    A corrected line gets the new text and ``"corrected": true``; when the text has as many
    characters as the line's boxes, each changed character keeps its box and alternatives and gets
    ``confidence`` 1.0 and ``"corrected": true`` (no ``low``); otherwise the line's box is divided
    evenly among the new characters. ``proofread`` at the top says which version, by whom."""
    from guji.ocr.page import PageModel

    out = copy.deepcopy(doc)
    problems: list[Problem] = []
    if corr is None or not corr.lines:
        return out, problems
    lines = {ln["id"]: ln for r in out.get("regions") or [] for ln in r.get("lines") or []}
    applied = []
    for c in corr.lines:
        ln = lines.get(c.line)
        if ln is None or ln.get("text", "") != c.machine_text:
            problems.append(Problem("warning", "proofread-stale",
                                    f"correction of line {c.line} not applied: the OCR line "
                                    f"{'is gone' if ln is None else 'now reads ' + repr(ln.get('text'))}, "
                                    f"the correction was made on {c.machine_text!r}",
                                    item=corr.item, page=corr.canvas, stage="ocr", field=c.line))
            continue
        applied.append(c)
        if c.text == ln.get("text"):
            continue
        chars = ln.get("chars") or []
        if chars and len(chars) == len(c.text):
            for ch, t in zip(chars, c.text):
                if ch["text"] != t:
                    ch["text"], ch["confidence"], ch["corrected"] = t, 1.0, True
                    ch.pop("low", None)
        elif chars:
            ln["chars"] = [{"text": t, "box": b, "confidence": 1.0, "corrected": True}
                           for t, b in zip(c.text, _split_box(list(ln["box"]), len(c.text), ln.get("direction", "ttb")))]
        ln["text"] = c.text
        ln["corrected"] = True
    pm = PageModel.from_dict(out)
    out["text"] = pm.text
    out["mean_confidence"] = pm.mean_confidence()
    if not any(ch.low for ln in pm.lines() for ch in ln.chars):
        out["flags"] = [f for f in out.get("flags") or [] if f != "ocr-low-confidence-chars"]
    if applied:
        out["proofread"] = {"version": corr.version, "lines": sorted(c.line for c in applied),
                            "who": sorted({c.who for c in applied}), "source": sorted({c.source for c in applied}),
                            "when": max(c.when for c in applied)}
    return out, problems


# -- what the OCR stage writes ---------------------------------------------------------------------

def ocr_processing(engine: str, engine_version: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The provenance step of the renderings (ALTO Processing, PAGE MetadataItem, hOCR meta)."""
    import guji

    return [{"step": "ocr", "software": "guji", "version": guji.__version__, "engine": engine,
             "engine_version": engine_version,
             "settings": {k: v for k, v in sorted(params.items()) if not str(k).startswith("_")}}]


def _proofread_step(doc: dict[str, Any]) -> list[dict[str, Any]]:
    import guji

    pr = doc.get("proofread")
    if not pr:
        return []
    return [{"step": "proofread", "software": "guji workspace", "version": guji.__version__,
             "settings": {"version": pr["version"], "who": pr["who"], "source": pr["source"], "when": pr["when"]}}]


def _dump(d: dict[str, Any]) -> str:
    return json.dumps(d, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def _write_outputs(work: Path, base: str, doc: dict[str, Any], image_name: str, steps: list[dict[str, Any]],
                   render_doc: dict[str, Any] | None = None) -> dict[str, str]:
    """The page model ``doc`` as ``WORK/<base>.json`` and its renderings (ALTO, PAGE, hOCR, text), made
    from ``render_doc`` when given (the model with every alternative), else from ``doc``."""
    from guji.fsutil import atomic_write_text
    from guji.ocr import render
    from guji.ocr.page import PageModel

    r = doc if render_doc is None else render_doc
    text = PageModel.from_dict(r).text
    outputs: dict[str, str] = {}
    for rel, body in ((f"{base}.json", _dump(doc)), (f"{base}.alto.xml", render.to_alto(r, image_name, steps)),
                      (f"{base}.page.xml", render.to_page(r, image_name, steps, "1970-01-01T00:00:00")),
                      (f"{base}.hocr", render.to_hocr(r, image_name, steps)),
                      (f"{base}.txt", text + "\n" if text else "")):
        outputs[rel] = atomic_write_text(work / rel, body)
    return outputs


def write_ocr_outputs(work: Path, base: str, pm: Any, doc: dict[str, Any], image_name: str,
                      processing: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, Any], list[Problem]]:
    """Write the page model ``doc`` (``pm.to_dict()``) and its renderings at ``WORK/<base>.*``, with
    the canvas's corrections applied when it has any. Returns (outputs {rel: sha256}, info, problems);
    ``info["proofread"]`` is the SHA-256 of the corrections file applied (None without)."""
    work = Path(work)
    corr, sha = load_corrections(work, doc["item"], doc["canvas"])
    if corr is None:  # the recogniser's model as it is (the same bytes as before proofreading existed)
        return _write_outputs(work, base, doc, image_name, processing, render_doc=pm.to_dict()), {"proofread": None}, []
    outputs, problems = _write_corrected(work, base, doc, corr, image_name, processing)
    return outputs, {"proofread": sha}, problems


def _write_corrected(work: Path, base: str, machine: dict[str, Any], corr: CanvasCorrections | None,
                     image_name: str, processing: list[dict[str, Any]]) -> tuple[dict[str, str], list[Problem]]:
    from guji.fsutil import atomic_write_text

    doc, problems = apply(machine, corr)
    mrel = machine_rel(machine["item"], machine["canvas"])
    outputs = {mrel: atomic_write_text(work / mrel, _dump(machine))}
    outputs.update(_write_outputs(work, base, doc, image_name, list(processing) + _proofread_step(doc)))
    return outputs, problems


def sync_ocr(ctx: Any, stage: str, tasks: list[Any]) -> list[Problem]:
    """After the OCR page tasks: re-derive the outputs of every canvas whose recognition is current but
    whose corrections changed (added, edited or removed) since its outputs were written, from the
    stored machine model plus the corrections, and record them. Recognition never runs here."""
    problems: list[Problem] = []
    for t in tasks:
        rec = ctx.store.get(stage, t.key)
        if rec is None or rec.status != "ok":
            continue
        item, canvas, slug = t.payload["item"], t.payload["canvas"], t.payload["slug"]
        try:
            corr, sha = load_corrections(ctx.work, item, canvas)
        except BadBatch as e:
            problems.append(Problem("error", "proofread-unreadable", str(e), item=item, page=canvas, stage=stage,
                                    path=str(corrections_path(ctx.work, item, canvas))))
            continue
        have = rec.info.get("proofread")
        if have == sha:
            continue
        base = f"{stage}/{item}/{slug}"
        mrel = machine_rel(item, canvas)
        src = ctx.work / (mrel if have is not None else f"{base}.json")
        try:
            machine = json.loads(src.read_text("utf-8"))
        except (OSError, ValueError) as e:
            problems.append(Problem("error", "proofread-no-machine-model",
                                    f"cannot read the recogniser's page model {src}: {e}; run `guji ocr --force`",
                                    item=item, page=canvas, stage=stage))
            continue
        image_name = Path(t.payload["image"]).name
        processing = ocr_processing(machine.get("engine", ""), machine.get("engine_version", ""), rec.params)
        if corr is None:  # corrections withdrawn: the recogniser's model again
            outputs = _write_outputs(ctx.work, base, machine, image_name, processing)
            (ctx.work / mrel).unlink(missing_ok=True)
            probs: list[Problem] = []
        else:
            outputs, probs = _write_corrected(ctx.work, base, machine, corr, image_name, processing)
        problems.extend(probs)
        ctx.store.record(stage, t.key, fingerprint=rec.fingerprint, status="ok", inputs=rec.inputs, params=rec.params,
                         tools=rec.tools, outputs=outputs, info={**rec.info, "proofread": sha})
    return problems
