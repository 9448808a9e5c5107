"""Checks of the built IIIF tree: JSON Schema (when given) plus what the schema misses.

- duplicate ids: two different resources (canvas, annotation, range, page …) defined with one id,
  within a document or across the build;
- ``navDate`` without a timezone;
- ``behavior`` values from one disjoint set used together (e.g. ``paged`` with ``individuals``);
- every file the documents reference under the base URL exists in the build: info.json of each
  image service, every tile its ``tiles``/``sizes`` promise, whole images, thumbnails, external
  annotation pages, MODS records and the manifests/collections listed in collections.

Schema: the IIIF Presentation 3 JSON Schema (draft-07) of IIIF's presentation-validator,
validated per class (``#/classes/manifest`` …) for readable messages.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterator

from guji.errors import Problem
from guji.iiif import uris

DISJOINT = [
    {"auto-advance", "no-auto-advance"},
    {"repeat", "no-repeat"},
    {"unordered", "individuals", "continuous", "paged"},
    {"facing-pages", "non-paged"},
    {"multi-part", "together"},
    {"sequence", "thumbnail-nav", "no-nav"},
]
TZ_RE = re.compile(r"^\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DEFINING = {"Canvas": "items", "Annotation": "motivation", "AnnotationPage": "items", "Range": "items",
            "Manifest": "items", "Collection": "items"}


def load_schema(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text("utf-8"))


def schema_errors(doc: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Messages from validating ``doc`` against the class of its ``type``."""
    import jsonschema

    cls = {"Manifest": "manifest", "Collection": "collection", "AnnotationPage": "annotationPage"}.get(doc.get("type"))
    if cls is None:
        return [f"no schema class for type {doc.get('type')!r}"]
    sub = {"$ref": f"#/classes/{cls}", "classes": schema["classes"], "types": schema["types"]}
    v = jsonschema.Draft7Validator(sub, format_checker=jsonschema.FormatChecker())
    out = []
    for e in sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append(f"{where}: {e.message[:300]}")
    return out


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


class BuildChecker:
    """Collects documents of one build and checks them together."""

    def __init__(self, build_root: Path, base_url: str, schema: dict[str, Any] | None = None):
        self.root = Path(build_root)
        self.base = base_url
        self.schema = schema
        self.docs: dict[str, dict[str, Any]] = {}  # build-relative path → document
        self.problems: list[Problem] = []
        self._defined: dict[str, str] = {}  # id → "path#json-pointer" of its definition
        self._checked_files: set[str] = set()
        self._pending: list[tuple[str, dict[str, Any], str, str | None]] = []

    def _problem(self, code: str, message: str, path: str, item: str | None = None) -> None:
        self.problems.append(Problem("error", code, message, path=f"build/{path}", item=item, stage="iiif"))

    def local_path(self, uri: str) -> str | None:
        return uris.path_of(uri, self.base)  # the one decoding of URIs back to build paths

    def _exists(self, rel: str, ref_path: str, item: str | None, what: str) -> None:
        if rel in self._checked_files:
            return
        if not (self.root / rel).is_file():
            self._problem("iiif-missing-file", f"{what} {rel} referenced but not in the build", ref_path, item)
        self._checked_files.add(rel)

    def add(self, rel_path: str, doc: dict[str, Any], item: str | None = None) -> None:
        self.docs[rel_path] = doc
        if self.schema is not None and doc.get("type") in ("Manifest", "Collection", "AnnotationPage"):
            for msg in schema_errors(doc, self.schema):
                self._problem("iiif-schema", msg, rel_path, item)
        for ptr, node in _walk(doc):
            t = node.get("type")
            nid = node.get("id")
            # duplicate ids: only definitions count (references carry the same id on purpose)
            if isinstance(nid, str) and t in DEFINING and DEFINING[t] in node:
                where = f"{rel_path}#{ptr}"
                if nid in self._defined and self._defined[nid] != where:
                    self._problem("iiif-duplicate-id", f"id {nid} defined twice ({self._defined[nid]} and {where})",
                                  rel_path, item)
                else:
                    self._defined[nid] = where
            if "navDate" in node and not TZ_RE.match(str(node["navDate"])):
                self._problem("iiif-navdate-timezone", f"navDate {node['navDate']!r} at {ptr or '/'} has no timezone",
                              rel_path, item)
            beh = node.get("behavior")
            if isinstance(beh, list):
                for group in DISJOINT:
                    both = sorted(set(beh) & group)
                    if len(both) > 1:
                        self._problem("iiif-behavior-disjoint", f"behavior values {both} at {ptr or '/'} are disjoint",
                                      rel_path, item)
            self._pending.append((ptr, node, rel_path, item))

    def finish(self) -> list[Problem]:
        """Check the file references of everything added (call once all files are written)."""
        for ptr, node, rel_path, item in self._pending:
            self._check_refs(ptr, node, rel_path, item)
        self._pending = []
        return self.problems

    def _check_refs(self, ptr: str, node: dict[str, Any], rel_path: str, item: str | None) -> None:
        t = node.get("type")
        nid = node.get("id")
        if not isinstance(nid, str):
            return
        rel = self.local_path(nid)
        if rel is None:
            return
        if t == "ImageService3":
            self._exists(rel + "/info.json", rel_path, item, "image service")
            self.check_service(rel, rel_path, item)
        elif t == "Image":
            self._exists(rel, rel_path, item, "image")
        elif t == "AnnotationPage" and "items" not in node:
            self._exists(rel, rel_path, item, "annotation page")
        elif t == "Dataset" or (t in ("Manifest", "Collection") and "items" not in node):
            self._exists(rel, rel_path, item, t.lower())

    def check_service(self, rel: str, ref_path: str, item: str | None) -> None:
        """Every tile and size promised by the info.json exists (IIIF 3 canonical level-0 names)."""
        info_rel = rel + "/info.json"
        key = "service:" + rel
        if key in self._checked_files or not (self.root / info_rel).is_file():
            return
        self._checked_files.add(key)
        info = json.loads((self.root / info_rel).read_text("utf-8"))
        if self.local_path(info.get("id", "")) != rel:
            self._problem("iiif-info-id", f"info.json id {info.get('id')} is not where it is served", info_rel, item)
        W, H = info["width"], info["height"]
        for t in info.get("tiles", []):
            tw = t["width"]
            th = t.get("height", tw)
            for s in t["scaleFactors"]:
                for y in range(0, H, th * s):
                    for x in range(0, W, tw * s):
                        w, h = min(tw * s, W - x), min(th * s, H - y)
                        sw, sh = math.ceil(w / s), math.ceil(h / s)
                        region = "full" if (x, y, w, h) == (0, 0, W, H) else f"{x},{y},{w},{h}"
                        self._exists(f"{rel}/{region}/{sw},{sh}/0/default.jpg", info_rel, item, "tile")
        for size in info.get("sizes", []):
            self._exists(f"{rel}/full/{size['width']},{size['height']}/0/default.jpg", info_rel, item, "size")
        self._exists(f"{rel}/full/max/0/default.jpg", info_rel, item, "full image")
