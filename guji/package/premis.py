"""PREMIS 3 rendering of :mod:`guji.package.provenance` events and agents (lxml, never strings).

One ``premis:event`` / ``premis:agent`` element per event / agent, in the element order of the
PREMIS 3.0 schema, ready to be wrapped in METS ``digiprovMD`` (``MDTYPE="PREMIS:EVENT"`` /
``"PREMIS:AGENT"``). ``object_id`` maps an event's work paths to the identifiers the wrapping
document uses (METS file IDs); paths it does not know are left out.
"""

from __future__ import annotations

from typing import Callable

from lxml import etree

from guji.fsutil import canonical_json
from guji.package.provenance import Agent, Event

PREMIS_NS = "http://www.loc.gov/premis/v3"
P = f"{{{PREMIS_NS}}}"
NSMAP = {"premis": PREMIS_NS}
ID_TYPE = "local"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, P + name)
    if text is not None:
        el.text = text
    return el


def _identifier(parent: etree._Element, name: str, value: str, role: str | None = None) -> etree._Element:
    """PREMIS ``<{name}Identifier>`` with its type and value (and ``<{name}Role>`` for links)."""
    el = _sub(parent, name + "Identifier")
    _sub(el, name + "IdentifierType", ID_TYPE)
    _sub(el, name + "IdentifierValue", value)
    if role is not None:
        _sub(el, name + "Role", role)
    return el


def event_element(ev: Event, object_id: Callable[[str], str | None] = lambda p: None) -> etree._Element:
    root = etree.Element(P + "event", nsmap=NSMAP)
    root.set("version", "3.0")
    _identifier(root, "event", ev.id)
    _sub(root, "eventType", ev.type)
    _sub(root, "eventDateTime", ev.date)
    info = _sub(root, "eventDetailInformation")
    detail = ev.detail
    if ev.params:
        detail += "; parameters: " + canonical_json(ev.params)
    _sub(info, "eventDetail", detail)
    out = _sub(root, "eventOutcomeInformation")
    _sub(out, "eventOutcome", ev.outcome)
    if ev.outcome_detail:
        od = _sub(out, "eventOutcomeDetail")
        _sub(od, "eventOutcomeDetailNote", ev.outcome_detail)
    for agent_id, role in ev.agents:
        _identifier(root, "linkingAgent", agent_id, role)
    seen: set[tuple[str, str]] = set()
    for role, paths in (("source", ev.sources), ("outcome", ev.outcomes)):
        for p in paths:
            oid = object_id(p)
            if oid is None or (oid, role) in seen:
                continue
            seen.add((oid, role))
            _identifier(root, "linkingObject", oid, role)
    return root


def agent_element(agent: Agent) -> etree._Element:
    root = etree.Element(P + "agent", nsmap=NSMAP)
    root.set("version", "3.0")
    _identifier(root, "agent", agent.id)
    _sub(root, "agentName", agent.name)
    _sub(root, "agentType", agent.type)
    if agent.version:
        _sub(root, "agentVersion", agent.version)
    if agent.note:
        _sub(root, "agentNote", agent.note)
    return root
