"""What guji did to an item, as provenance events and agents, read from the state store.

The state store records per stage and key (page, canvas, batch) the fingerprint, the input hashes,
the parameters, the tool versions, the outputs with their SHA-256 and the time; the ``events``
table adds fixity checks and publications; ``WORK/metadata/corrections.jsonl`` holds the review
corrections. This module turns all of that into plain :class:`Event` / :class:`Agent` objects (no
XML), so several renderings can share it: PREMIS 3 in the METS of a preservation package
(:mod:`guji.package.premis`) and, later, ALTO ``<Processing>`` steps (:func:`canvas_events`).

Object references in events are *work paths*: ``master:<path relative to the batch folder>`` for a
master, else the path relative to WORK (``clean/…``, ``ocr/…``, ``metadata/…``); a renderer maps
them to its own file identifiers. Events are deterministic for a given state store (ids are hashes
of their content, dates come from the store), so a package built twice from the same state has the
same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from guji import __version__
from guji.fsutil import canonical_json, sha256_bytes
from guji.model import Batch, Canvas, Item, canvas_slug
from guji.state import Record, StateStore

# event types (PREMIS eventType values; the LoC preservation vocabulary's words where one fits)
INGESTION = "ingestion"
MESSAGE_DIGEST = "message digest calculation"
FIXITY_CHECK = "fixity check"
DERIVATION = "derivation"  # image cleanup: access, OCR-ready and thumbnail images from the master
OCR = "optical character recognition"
METADATA_NORMALISATION = "metadata normalization"
METADATA_MODIFICATION = "metadata modification"  # a reviewer's correction
TILING = "derivation"  # IIIF image tiles (detail says so)
PUBLICATION = "publication"

# stage → (event type, one-line description)
STAGE_EVENTS = {
    "clean": (DERIVATION, "image cleanup: deskew, crop, spread split, orientation; access JPEG, OCR-ready "
                          "image and thumbnail derived from the master (master never written)"),
    "ocr": (OCR, "layout analysis (columns right to left) and text recognition; page model JSON, ALTO 4.4, "
                 "hOCR and plain text written"),
    "iiif": (TILING, "IIIF Image API level-0 tiles and sizes derived from the access image"),
}

MASTER_PREFIX = "master:"


@dataclass(frozen=True)
class Agent:
    id: str  # stable identifier, e.g. "software:guji/0.1.0", "person:王小明"
    name: str
    type: str  # software | person | organization
    version: str | None = None
    note: str | None = None


@dataclass
class Event:
    id: str
    type: str
    date: str  # ISO 8601, UTC
    detail: str  # human description of what was done
    params: dict[str, Any] = field(default_factory=dict)
    outcome: str = "success"  # success | failure
    outcome_detail: str = ""
    agents: list[tuple[str, str]] = field(default_factory=list)  # (agent id, role)
    sources: list[str] = field(default_factory=list)  # work paths the event read
    outcomes: list[str] = field(default_factory=list)  # work paths the event wrote or checked
    stage: str | None = None
    key: str | None = None
    timestamp: float = 0.0  # for ordering

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "date": self.date, "detail": self.detail, "params": self.params,
                "outcome": self.outcome, "outcome_detail": self.outcome_detail,
                "agents": [list(a) for a in self.agents], "sources": self.sources, "outcomes": self.outcomes,
                "stage": self.stage, "key": self.key}


@dataclass
class Provenance:
    events: list[Event] = field(default_factory=list)
    agents: dict[str, Agent] = field(default_factory=dict)

    def add_agent(self, agent: Agent) -> str:
        self.agents.setdefault(agent.id, agent)
        return agent.id

    def add(self, ev: Event) -> None:
        self.events.append(ev)

    def sorted(self) -> "Provenance":
        self.events.sort(key=lambda e: (e.timestamp, e.type, e.id))
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"events": [e.to_dict() for e in self.events],
                "agents": [vars(a) for a in sorted(self.agents.values(), key=lambda a: a.id)]}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def guji_agent() -> Agent:
    return Agent(f"software:guji/{__version__}", "guji", "software", __version__,
                 "digitisation and preservation pipeline for Chinese ancient books")


def tool_agents(tools: dict[str, str]) -> list[Agent]:
    """One software agent per tool version in a stage record (``engine``/``engine_version`` become one)."""
    out = []
    tools = dict(tools)
    engine, ev = tools.pop("engine", None), tools.pop("engine_version", None)
    if engine:
        out.append(Agent(f"software:{engine}/{ev or ''}", str(engine), "software", str(ev) if ev else None,
                         "recognition engine"))
    for name, version in sorted(tools.items()):
        out.append(Agent(f"software:{name}/{version}", name, "software", str(version)))
    return out


def _event_id(*parts: Any) -> str:
    return "guji-event-" + sha256_bytes(canonical_json(list(parts)).encode())[:24]


def _from_record(prov: Provenance, rec: Record, etype: str, detail: str, *, sources: list[str],
                 extra_agents: Iterable[tuple[Agent, str]] = ()) -> Event:
    ids = [(prov.add_agent(guji_agent()), "executing program")]
    ids += [(prov.add_agent(a), "software") for a in tool_agents(rec.tools)]
    ids += [(prov.add_agent(a), role) for a, role in extra_agents]
    ok = rec.status == "ok"
    outcome_detail = rec.message or ""
    if ok and rec.outputs:
        outcome_detail = canonical_json({"outputs": rec.outputs}) if len(rec.outputs) <= 12 else \
            f"{len(rec.outputs)} files written"
    ev = Event(_event_id(rec.stage, rec.key, etype, rec.fingerprint, rec.updated), etype, iso(rec.updated), detail,
               params=dict(rec.params), outcome="success" if ok else "failure", outcome_detail=outcome_detail,
               agents=ids, sources=sources, outcomes=sorted(rec.outputs) if len(rec.outputs) <= 12 else [],
               stage=rec.stage, key=rec.key, timestamp=rec.updated)
    prov.add(ev)
    return ev


def _item_of_path(path: str, item_ids: Iterable[str]) -> list[str]:
    return [i for i in item_ids if i in path]


def item_provenance(store: StateStore, batch: Batch, item: Item, work: str | Path, *,
                    canvases: list[Canvas] | None = None, published: dict[str, Any] | None = None) -> Provenance:
    """Every event guji recorded for ``item``: ingestion and message digests per master, derivation,
    OCR and tiling per canvas, metadata normalisation, review corrections, fixity checks and
    publications (from the events table, and from ``published`` = a publication target's record
    ``{"target": str, "date": float, "objects": {key: sha256}}`` when given)."""
    work = Path(work)
    prov = Provenance()
    gid = prov.add_agent(guji_agent())
    inst = batch.institution
    org = None
    if inst.get("institution"):
        org = Agent(f"organization:{inst.get('institution_code') or inst['institution']}", str(inst["institution"]),
                    "organization")
    operator = Agent(f"person:{inst['operator']}", str(inst["operator"]), "person",
                     note="scan operator named in batch.toml") if inst.get("operator") else None
    pages = list(item.pages())
    page_ids = {p.id for p in pages}
    # ingestion and message digest calculation, per master
    for p in pages:
        rec = store.get("ingest", f"{batch.id}:{p.master}")
        src = [MASTER_PREFIX + p.master]
        agents_extra = [(operator, "implementer")] if operator else []
        if org:
            agents_extra.append((org, "executing organization"))
        if rec is not None:
            _from_record(prov, rec, INGESTION, "master image checked and measured (format, size, bit depth, "
                         "colour, resolution, full decode) and entered into the batch", sources=src,
                         extra_agents=agents_extra)
        entry = store.master_entry(p.master)
        if entry is not None:
            _pid, digest, size, when = entry
            prov.add(Event(_event_id("digest", p.master, digest, when), MESSAGE_DIGEST, iso(when),
                           "SHA-256 of the master recorded in the fixity ledger", params={"algorithm": "SHA-256"},
                           outcome="success", outcome_detail=f"SHA-256 {digest}, {size} bytes",
                           agents=[(gid, "executing program")], sources=src, outcomes=src, stage="ingest",
                           key=p.master, timestamp=when))
    # per-page / per-canvas stages
    if canvases is None:
        canvases = []
    item_canvases = [c for c in canvases if c.item_id == item.id]
    clean_done: set[str] = set()
    for p in pages:
        rec = store.get("clean", p.id)
        if rec is not None and p.id not in clean_done:
            clean_done.add(p.id)
            et, detail = STAGE_EVENTS["clean"]
            _from_record(prov, rec, et, detail, sources=[MASTER_PREFIX + p.master])
    for c in item_canvases:
        for stage in ("ocr", "iiif"):
            rec = store.get(stage, c.id)
            if rec is None:
                continue
            et, detail = STAGE_EVENTS[stage]
            src = [c.ocr.path] if stage == "ocr" and c.ocr else ([c.access.path] if c.access else [])
            _from_record(prov, rec, et, detail, sources=src)
    # metadata normalisation (one record for the batch: only this item's outputs and findings)
    rec = store.get("metadata", "batch")
    if rec is not None:
        mine = {k: v for k, v in rec.outputs.items() if Path(k).name.startswith(item.id + ".")}
        findings = [f for f in rec.info.get("problems", []) if f.get("item") == item.id]
        ids = [(gid, "executing program")] + [(prov.add_agent(a), "software") for a in tool_agents(rec.tools)]
        errs = sum(1 for f in findings if f.get("severity") == "error")
        prov.add(Event(
            _event_id("metadata", item.id, rec.fingerprint, rec.updated), METADATA_NORMALISATION, iso(rec.updated),
            "census record (全国古籍普查登记) parsed and normalised (reign eras, dynasties, edition, "
            "measurements); MODS, Dublin Core and IIIF metadata written", params=dict(rec.params),
            outcome="success" if rec.status == "ok" and not errs else "failure",
            outcome_detail=canonical_json({"errors": errs, "warnings": len(findings) - errs,
                                           "findings": [f.get("code") for f in findings]}),
            agents=ids, sources=[f"ingest/batch.json#{item.id}"], outcomes=sorted(mine), stage="metadata",
            key=item.id, timestamp=rec.updated))
    # review corrections
    corr = work / "metadata" / "corrections.jsonl"
    if corr.exists():
        for n, line in enumerate(corr.read_text("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            c = json.loads(line)
            if c.get("item") != item.id:
                continue
            try:
                ts = datetime.fromisoformat(c["when"]).timestamp()
            except (KeyError, ValueError):
                ts = 0.0
            who = Agent(f"person:{c.get('who') or 'unknown'}", str(c.get("who") or "unknown"), "person",
                        note="reviewer")
            prov.add(Event(
                _event_id("correction", n, c), METADATA_MODIFICATION, iso(ts) if ts else str(c.get("when", "")),
                f"review correction of census field {c.get('field')}",
                params={"field": c.get("field"), "source": Path(str(c.get("source", ""))).name,
                        "source_row": c.get("source_row")},
                outcome="success", outcome_detail=canonical_json({"old": c.get("old"), "new": c.get("new")}),
                agents=[(prov.add_agent(who), "implementer"), (gid, "executing program")],
                sources=["metadata/corrections.jsonl"], stage="metadata", key=item.id, timestamp=ts))
    # fixity checks and publications recorded as events
    for e in store.events():
        per_item = e["detail"].get("items", {})
        if e["detail"].get("item_ids") is not None and item.id not in e["detail"]["item_ids"]:
            continue
        failed = per_item.get(item.id, [])
        agents = [(prov.add_agent(Agent(f"software:{n}/{v}", n, "software", v)), "executing program")
                  for n, v in sorted(e["agent"].items())]
        prov.add(Event(
            _event_id("event", e["id"], e["type"], e["date"]), e["type"], iso(e["date"]),
            f"{e['type']}: {e['scope']}", params=e["params"],
            outcome="failure" if failed else "success",
            outcome_detail=canonical_json({"checked": e["detail"].get("checked"), "failed": failed[:50]}),
            agents=agents, stage="events", key=str(e["id"]), timestamp=e["date"]))
    if published:
        objs = {k: v for k, v in published.get("objects", {}).items() if _item_of_path(k, [item.id]) or
                any(k.startswith(f"iiif/images/{s}") for s in (canvas_slug(c.id) for c in item_canvases))}
        if objs:
            prov.add(Event(
                _event_id("publication", published.get("target"), canonical_json(objs)), PUBLICATION,
                iso(float(published.get("date", 0))), f"published to {published.get('target')}",
                params={"target": published.get("target")}, outcome="success",
                outcome_detail=f"{len(objs)} objects recorded with SHA-256 by guji publish",
                agents=[(gid, "executing program")], stage="publish", key=item.id,
                timestamp=float(published.get("date", 0))))
    return prov.sorted()


def canvas_events(store: StateStore, batch: Batch, canvas: Canvas) -> Provenance:
    """The processing steps behind one canvas (ingestion of its master, cleanup, OCR): what ALTO
    ``<Processing>`` elements need (date, software and version, settings)."""
    prov = Provenance()
    page = batch.page(canvas.page_id)
    rec = store.get("ingest", f"{batch.id}:{page.master}")
    if rec is not None:
        _from_record(prov, rec, INGESTION, "master image checked and measured", sources=[MASTER_PREFIX + page.master])
    for stage, key in (("clean", canvas.page_id), ("ocr", canvas.id)):
        rec = store.get(stage, key)
        if rec is not None:
            et, detail = STAGE_EVENTS[stage]
            _from_record(prov, rec, et, detail, sources=[])
    return prov.sorted()
