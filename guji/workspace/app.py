"""``guji workspace serve``: the staff workspace (Starlette + Jinja2).

Every route but ``/login`` needs a session: the cookie ``guji_ws`` carries a random session id signed
with itsdangerous (HttpOnly, SameSite=Strict, Secure behind HTTPS); the session and its CSRF token
live in the database. Every POST needs that CSRF token (form field ``csrf`` or header
``X-CSRF-Token``), else 403. Failed logins per user name + client address: after
:data:`LOGIN_LIMIT` failures within :data:`LOGIN_WINDOW` seconds, 429 for :data:`LOGIN_LOCK` seconds.
Rights: :mod:`guji.workspace.data` (roles × institutions × restricted items and fields).
Every change is written to the audit log (who, when, object, field, before, after).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from guji.workspace import i18n
from guji.workspace.data import IMAGE_RIGHTS, RESTRICTED_FIELDS, STATES, TRANSITIONS, Workspace, can, measured
from guji.workspace.db import MIN_PASSWORD, ROLES, Database, valid_name

log = logging.getLogger("guji.workspace")

COOKIE = "guji_ws"
SESSION_TTL = 8 * 3600.0
LOGIN_LIMIT = 5
LOGIN_WINDOW = 900.0
LOGIN_LOCK = 300.0
MAX_BODY = 1 << 20
EDITABLE_FIELDS = ("普查编号", "索书号", "分类", "题名卷数", "著者", "版本", "批校题跋", "版式", "装帧", "册数",
                   "存卷", "尺寸", "钤印", "定级", "破损级别", "附注", "本地编号", "文献类型", "访问级别", "收藏单位")


class Denied(Exception):
    """A refused request: ``status``, a message, and the i18n key of the message when it has one."""

    def __init__(self, status: int, message: str, key: str | None = None, values: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.key, self.values = status, message, key, values or {}

    @classmethod
    def says(cls, status: int, key: str, **kw: Any) -> "Denied":
        return cls(status, i18n.t(key, **kw), key, kw)


ARGON2_ENV = "GUJI_WORKSPACE_ARGON2"
ARGON2_FLOOR = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}  # OWASP's minimum for argon2id


def argon2_params(spec: str | None = None) -> dict[str, int]:
    """argon2id parameters from ``$GUJI_WORKSPACE_ARGON2`` (``t=2,m=19456,p=2``: iterations, memory in
    KiB, lanes); empty: argon2-cffi's defaults (t=3, 64 MiB, p=4). Never below OWASP's minimum."""
    from guji.errors import BadBatch

    spec = (os.environ.get(ARGON2_ENV, "") if spec is None else spec).strip()
    names = {"t": "time_cost", "m": "memory_cost", "p": "parallelism"}
    kw: dict[str, int] = {}
    for part in filter(None, (x.strip() for x in spec.split(","))):
        k, _, v = part.partition("=")
        if k.strip() not in names or not v.strip().isdigit():
            raise BadBatch(f"{ARGON2_ENV}={spec!r}: expected t=N,m=KIB,p=N (e.g. t=2,m=19456,p=2)")
        kw[names[k.strip()]] = int(v)
    low = [f"{k}={kw[k]} < {v}" for k, v in ARGON2_FLOOR.items() if k in kw and kw[k] < v]
    if low:
        raise BadBatch(f"{ARGON2_ENV}: below OWASP's minimum for argon2id ({', '.join(low)})")
    return kw


def hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(**argon2_params())


def hash_password(password: str) -> str:
    return hasher().hash(password)


class App:
    def __init__(self, works: list[Path], db: Database, *, secure_cookies: bool | None = None):
        import jinja2
        from itsdangerous import URLSafeSerializer

        self.ws = Workspace(works)
        self.db = db
        self.signer = URLSafeSerializer(db.secret(), salt="guji-workspace-session")
        self.secure_cookies = secure_cookies
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("guji.workspace", "templates"), autoescape=True,
                                      undefined=jinja2.StrictUndefined)
        self.env.globals.update(t=i18n.t, i18n_json=i18n.table_json(), i18n_script=i18n.script(), quote=_q,
                                states=STATES)
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))  # same work for unknown users
        from guji.publish.viewer import osd_package

        # the deep-zoom viewer: OpenSeadragon as scripts/install-viewer.sh installs it for the reading room
        osd = osd_package()
        self.osd_js: Path | None = osd / "build" / "openseadragon" / "openseadragon.min.js" if osd else None

    # -- plumbing ---------------------------------------------------------------------------------
    def render(self, request: Request, name: str, code: int = 200, **kw: Any) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        sess = getattr(request.state, "session", None)
        html = self.env.get_template(name).render(user=user, csrf=sess["csrf"] if sess else "", can=can,
                                                  osd=self.osd_js is not None, **kw)
        return HTMLResponse(html, code)

    def current(self, request: Request) -> tuple[dict, dict] | None:
        from itsdangerous import BadSignature

        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            sid = self.signer.loads(raw)
        except BadSignature:
            return None
        sess = self.db.session(str(sid))
        if sess is None:
            return None
        user = self.db.user(id=sess["user_id"])
        if user is None or not user["active"]:
            return None
        return user, sess

    def check_csrf(self, request: Request, form: dict | None) -> None:
        sent = request.headers.get("x-csrf-token") or (form or {}).get("csrf") or ""
        if not sent or not hmac.compare_digest(str(sent), request.state.session["csrf"]):
            raise Denied(403, "CSRF token missing or wrong")

    def item_for(self, request: Request, item_id: str):
        info = self.ws.items.get(item_id)
        if info is None:
            raise Denied(404, i18n.t("err.not_found"))
        if not self.ws.may_see(request.state.user, item_id):
            raise Denied(403, i18n.t("err.forbidden"))
        return info

    def need(self, request: Request, right: str) -> None:
        if not can(request.state.user, right):
            raise Denied(403, f"role {request.state.user['role']} may not {right}")

    @staticmethod
    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    # -- login ------------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        if request.method == "GET":
            return self.render(request, "login.html", error=None, next=request.query_params.get("next", "/"))
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        nxt = str(form.get("next") or "/")
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        key = f"{name}\n{self.address(request)}"
        if self.db.locked_until(key) > time.time():
            return self.render(request, "login.html", 429, error="login.throttled", next=nxt)
        user = self.db.user(name=name)
        ok = False
        try:
            ok = hasher().verify(user["password_hash"] if user else self._dummy_hash, password) and user is not None
        except Exception:  # noqa: BLE001 - argon2's VerifyMismatchError / InvalidHash
            ok = False
        if not ok or not user["active"]:
            self.db.login_failed(key, LOGIN_LIMIT, LOGIN_WINDOW, LOGIN_LOCK)
            with self.db.begin() as c:
                self.db.log(c, name or "?", "login-failed", "session", address=self.address(request))
            status = 429 if self.db.locked_until(key) > time.time() else 401
            return self.render(request, "login.html", status, error="login.throttled" if status == 429 else "login.failed",
                               next=nxt)
        self.db.login_ok(key)
        if hasher().check_needs_rehash(user["password_hash"]):
            self.db.set_password_hash(user["id"], hash_password(password))
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.db.new_session(sid, user["id"], csrf, SESSION_TTL)
        with self.db.begin() as c:
            self.db.log(c, user["name"], "login", "session", address=self.address(request))
        resp = RedirectResponse(nxt, 303)
        secure = self.secure_cookies if self.secure_cookies is not None else request.url.scheme == "https"
        resp.set_cookie(COOKIE, self.signer.dumps(sid), max_age=int(SESSION_TTL), httponly=True, samesite="strict",
                        secure=secure, path="/")
        return resp

    async def logout(self, request: Request) -> Response:
        form = dict(await request.form())
        self.check_csrf(request, form)
        self.db.end_session(request.state.session["id"])
        with self.db.begin() as c:
            self.db.log(c, request.state.user["name"], "logout", "session", address=self.address(request))
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    # -- records ----------------------------------------------------------------------------------
    def record_view(self, user: dict, info: Any) -> dict:
        """The record as the user may see it: current fields (sheet + edits), parsed values, findings."""
        fields, rec, findings = self.evaluate(info, {})
        return self.visible_record(user, info, fields, rec, findings)

    def evaluate(self, info: Any, extra: dict[str, str]) -> tuple[dict, dict, list[dict]]:
        """Re-run the metadata stage's parsers and checks on the item's census row with the saved
        edits and ``extra`` (not saved) applied: the same public functions ``guji metadata`` uses."""
        from guji.metadata.record import normalise
        from guji.metadata.review import load_corrections
        from guji.metadata.stage import DEFAULTS, ocr_facts, cross_check
        from guji.errors import Problem

        it, batch = info.item, info.batch
        fields = dict(it.record)
        fields.update(load_corrections(info.work).get(it.id, {}))
        fields.update({f: e["value"] for f, e in self.db.edits(it.id).get(it.id, {}).items()})
        fields.update(extra)
        inst = batch.institution
        rec, probs = normalise(fields, item=it.id, row=it.record_row, institution_code=inst.get("institution_code"),
                               default_access=it.access, default_profile=it.profile,
                               institution=inst.get("institution"))
        params = dict(DEFAULTS)
        params.update((batch.config or {}).get("metadata") or {})
        pages, _ = ocr_facts(info.work, it.id)
        for sev, code, fld, msg, en in cross_check(rec, it, pages, params):
            probs.append(Problem(sev, code, msg, item=it.id, field=fld, stage="metadata", extra={"message_en": en}))
        return fields, rec, [p.to_dict() for p in probs]

    @staticmethod
    def visible_record(user: dict, info: Any, fields: dict, rec: dict, findings: list[dict]) -> dict:
        from guji.metadata.record import public_view
        from guji.metadata.review import parsed_summary

        restricted = can(user, "restricted")
        shown = rec if restricted else public_view(rec)
        parsed = parsed_summary(shown)
        if restricted:
            if rec.get("grade"):
                parsed.append(("定级", str((rec["grade"] or {}).get("text") or rec["grade"])))
            if rec.get("damage"):
                parsed.append(("破损级别", str((rec["damage"] or {}).get("text") or rec["damage"])))
        return {
            "item": info.id, "title": info.title,
            "fields": [(f, fields.get(f, "")) for f in EDITABLE_FIELDS
                       if restricted or f not in RESTRICTED_FIELDS],
            "parsed": parsed,
            "notes": (rec.get("notes") or {}).get("public", []) if not restricted else
                     [*(rec.get("notes") or {}).get("public", []), *(rec.get("notes") or {}).get("internal", [])],
            "findings": [f for f in findings if restricted or f.get("field") not in RESTRICTED_FIELDS],
        }

    def list_rows(self, user: dict) -> list[dict]:
        reviews = self.db.reviews()
        rows = []
        for info in self.ws.visible(user):
            rec = self.ws.record(info.work, info.id) or {}
            fnd = [f for f in rec.get("findings") or [] if can(user, "restricted") or f.get("field") not in RESTRICTED_FIELDS]
            rv = reviews.get(info.id) or {}
            rows.append({"item": info.id, "title": info.title, "institution": rec.get("institution") or "",
                         "state": rv.get("state", "draft"), "round": rv.get("round", 0),
                         "errors": sum(1 for f in fnd if f["severity"] == "error"),
                         "warnings": sum(1 for f in fnd if f["severity"] == "warning"),
                         "codes": sorted({f["code"] for f in fnd})})
        return rows

    async def records(self, request: Request) -> Response:
        rows = self.list_rows(request.state.user)
        q = request.query_params
        state, sev, text, code = q.get("state", ""), q.get("severity", ""), q.get("q", "").strip(), q.get("code", "")
        if state:
            rows = [r for r in rows if r["state"] == state]
        if sev == "error":
            rows = [r for r in rows if r["errors"]]
        elif sev == "warning":
            rows = [r for r in rows if r["warnings"]]
        elif sev == "clean":
            rows = [r for r in rows if not r["errors"] and not r["warnings"]]
        if code:
            rows = [r for r in rows if code in r["codes"]]
        if text:
            rows = [r for r in rows if text in r["item"] or text in r["title"]]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"records": rows})
        return self.render(request, "records.html", rows=rows, f={"state": state, "severity": sev, "q": text, "code": code})

    async def record(self, request: Request) -> Response:
        info = self.item_for(request, request.path_params["item"])
        user = request.state.user
        view = self.record_view(user, info)
        review = self.db.review(info.id) or {"state": "draft", "round": 0, "remark": None}
        history = [r for r in reversed(self.db.audit_rows(f"record:{info.id}", 100))
                   if can(user, "restricted") or r["field"] not in RESTRICTED_FIELDS]
        if request.url.path.startswith("/api/"):
            return JSONResponse({**view, "parsed": [list(p) for p in view["parsed"]], "review": review})
        actions = [a for a, (frm, _to, right) in TRANSITIONS.items() if review["state"] in frm and can(user, right)]
        editable = can(user, "edit") and review["state"] != "approved"
        pages = [{"id": c.id, "label": c.label or c.id.split("/")[-1], "tiles": self.tiles_for(info, c)}
                 for c in info.canvases]
        return self.render(request, "record.html", r=view, review=review, actions=actions, editable=editable,
                           history=history, pages=pages, m=measured(info.work, info))

    async def record_check(self, request: Request) -> Response:
        """POST {field, value}: findings and parsed values with this value, nothing saved."""
        info = self.item_for(request, request.path_params["item"])
        body = await self._json(request)
        self.check_csrf(request, body)
        self.need(request, "edit")
        field, value = self._field(request, body)
        fields, rec, findings = self.evaluate(info, {field: value})
        view = self.visible_record(request.state.user, info, fields, rec, findings)
        return JSONResponse({"findings": view["findings"], "parsed": [list(p) for p in view["parsed"]]})

    async def record_field(self, request: Request) -> Response:
        """POST {field, value} (JSON or form): save the edit, log it, answer with the new findings."""
        info = self.item_for(request, request.path_params["item"])
        body = await self._json(request)
        self.check_csrf(request, body)
        self.need(request, "edit")
        review = self.db.review(info.id) or {"state": "draft"}
        if review["state"] == "approved":
            raise Denied(409, "the record is approved; it cannot be changed")
        field, value = self._field(request, body)
        before = self.evaluate(info, {})[0].get(field, "")
        if value != before:
            with self.db.begin() as c:
                self.db.set_edit(c, info.id, field, value, request.state.user["name"])
                self.db.log(c, request.state.user["name"], "edit", f"record:{info.id}", field, before, value,
                            self.address(request))
        fields, rec, findings = self.evaluate(info, {})
        view = self.visible_record(request.state.user, info, fields, rec, findings)
        return JSONResponse({"saved": True, "field": field, "value": value, "findings": view["findings"],
                             "parsed": [list(p) for p in view["parsed"]]})

    def _field(self, request: Request, body: dict) -> tuple[str, str]:
        field, value = str(body.get("field", "")), body.get("value", "")
        if field not in EDITABLE_FIELDS:
            raise Denied(400, f"field {field!r} is not a census field")
        if field in RESTRICTED_FIELDS and not can(request.state.user, "restricted"):
            raise Denied(403, f"field {field} is restricted")
        if not isinstance(value, str) or len(value) > 4000:
            raise Denied(400, "value must be text of at most 4000 characters")
        return field, value

    async def record_action(self, request: Request) -> Response:
        info = self.item_for(request, request.path_params["item"])
        body = await self._json(request)
        self.check_csrf(request, body)
        action, remark = str(body.get("action", "")), str(body.get("remark", "")).strip()
        if action not in TRANSITIONS:
            raise Denied(400, f"unknown action {action!r}")
        frm, to, right = TRANSITIONS[action]
        self.need(request, right)
        review = self.db.review(info.id) or {"state": "draft", "round": 0}
        if review["state"] not in frm:
            raise Denied(409, f"a record in state {review['state']} cannot be {action}ed")
        if action == "return" and not remark:
            raise Denied(400, "returning a record needs a remark")
        rnd = int(review.get("round") or 0) + (1 if action in ("submit", "resubmit") else 0)
        who = request.state.user["name"]
        with self.db.begin() as c:
            self.db.set_review(c, info.id, to, who, remark or None, rnd)
            self.db.log(c, who, action, f"record:{info.id}", "state", review["state"], to, self.address(request))
            if remark:
                self.db.log(c, who, "remark", f"record:{info.id}", "remark", None, remark, self.address(request))
        if action == "approve":
            export_metadata(self, info.work, who)
        if request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"state": to, "round": rnd})
        return RedirectResponse(f"/record/{_q(info.id)}", 303)

    # -- proofreading -----------------------------------------------------------------------------
    async def proofread_list(self, request: Request) -> Response:
        self.need(request, "proofread")
        done = self.db.proofread_canvases()
        books = []
        for info in self.ws.visible(request.state.user):
            n = len(info.canvases)
            d = sum(1 for c in info.canvases if c.id in done)
            books.append({"item": info.id, "title": info.title, "pages": n, "done": d,
                          "canvases": [{"id": c.id, "label": c.label or c.id.split("/", 1)[-1], "done": c.id in done}
                                       for c in info.canvases]})
        if request.url.path.startswith("/api/"):
            return JSONResponse({"books": books})
        return self.render(request, "proofread.html", books=books)

    def canvas_for(self, request: Request, canvas_id: str):
        found = self.ws.canvas(canvas_id)
        if found is None:
            raise Denied(404, i18n.t("err.not_found"))
        info, c = found
        self.item_for(request, info.id)
        return info, c

    def page_doc(self, info: Any, canvas: Any) -> dict:
        """The page for proofreading: machine lines with the latest saved version on top."""
        from guji.pagetext import BODY_REGION_TYPES

        from guji.model import box_to_master, invert_affine

        machine = self.ws.machine_model(info.work, info.id, canvas.id)
        # character boxes on the image shown (access pixels = the IIIF full image): master → access
        to_img = invert_affine(canvas.access.to_master) if canvas.access is not None else None

        def on_image(box: list[int]) -> list[int]:
            return list(box_to_master(to_img, tuple(box))) if to_img is not None and box else []

        latest = self.db.page_version(canvas.id)
        saved = (latest or {}).get("lines", {})
        cols = []
        for r in (machine or {}).get("regions") or []:
            if r["type"] not in (*BODY_REGION_TYPES, "centre-column"):
                continue
            for ln in r.get("lines") or []:
                s = saved.get(ln["id"])
                cols.append({"id": ln["id"], "type": r["type"], "kind": ln.get("kind", "text"),
                             "b": on_image(ln.get("box")),
                             "machine": ln.get("text", ""), "text": s["text"] if s else ln.get("text", ""),
                             "human": bool(s and s["text"] != ln.get("text", "")),
                             "chars": [{"t": ch["text"], "low": bool(ch.get("low")), "b": on_image(ch.get("box")),
                                        "alt": [a for a, _p in ch.get("alternatives") or []][:5]}
                                       for ch in ln.get("chars") or []]})
        return {"canvas": canvas.id, "item": info.id, "has_ocr": machine is not None, "lines": cols,
                "tiles": self.tiles_for(info, canvas),
                "version": (latest or {}).get("version", 0), "who": (latest or {}).get("who"),
                "source": (latest or {}).get("source", "machine"),
                "layout": (machine or {}).get("layout", "vertical-rtl")}

    async def page(self, request: Request) -> Response:
        self.need(request, "proofread")
        info, c = self.canvas_for(request, request.path_params["canvas"])
        doc = self.page_doc(info, c)
        if request.url.path.startswith("/api/"):
            return JSONResponse(doc)
        ids = [x.id for x in info.canvases]
        i = ids.index(c.id)
        return self.render(request, "page.html", p=doc, title=info.title,
                           prev=ids[i - 1] if i > 0 else None, next=ids[i + 1] if i + 1 < len(ids) else None,
                           history=self.db.page_history(c.id))

    async def page_save(self, request: Request) -> Response:
        """POST {lines: {line id: text}}: a new version of the page text (human), exported at once."""
        self.need(request, "proofread")
        info, c = self.canvas_for(request, request.path_params["canvas"])
        body = await self._json(request)
        self.check_csrf(request, body)
        new = body.get("lines")
        if not isinstance(new, dict) or not all(isinstance(v, str) and len(v) <= 2000 for v in new.values()):
            raise Denied(400, "lines must map line ids to text")
        doc = self.page_doc(info, c)
        known = {ln["id"]: ln for ln in doc["lines"]}
        unknown = sorted(set(new) - set(known))
        if unknown:
            raise Denied(400, f"unknown line ids: {', '.join(unknown[:5])}")
        latest = self.db.page_version(c.id)
        lines = dict((latest or {}).get("lines") or {})
        changed = []
        for lid, text in new.items():
            text = text.replace("\n", "").replace("\r", "")
            cur = known[lid]["text"]
            if text != cur:
                changed.append(lid)
                lines[lid] = {"text": text, "machine_text": known[lid]["machine"]}
        if not changed:
            return JSONResponse({"version": doc["version"], "changed": []})
        who = request.state.user["name"]
        with self.db.begin() as conn:
            v = self.db.add_page_version(conn, c.id, info.id, lines, changed, who, "human")
            for lid in changed:
                self.db.log(conn, who, "proofread", f"page:{c.id}", lid, known[lid]["text"], lines[lid]["text"],
                            self.address(request))
        export_page(self, info, c.id)
        return JSONResponse({"version": v, "changed": changed})

    def need_images(self, request: Request) -> None:
        if not any(can(request.state.user, r) for r in IMAGE_RIGHTS):
            raise Denied(403, "no right to see page images")

    async def image(self, request: Request) -> Response:
        info, c = self.canvas_for(request, request.path_params["canvas"])
        self.need_images(request)
        p = self.ws.image_file(info.work, c)
        if p is None:
            raise Denied(404, "no image for this canvas yet")
        return FileResponse(p, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})

    async def tiles(self, request: Request) -> Response:
        """The canvas's level-0 IIIF image service from the work folder's build, behind the login and
        the same rights as :meth:`image`: ``info.json`` (its ``id`` made this route's URL, so the
        viewer asks here for the tiles) and the tile / size JPEGs."""
        slug = request.path_params["slug"]
        found = self.ws.canvas_by_slug(slug)
        if found is None:
            raise Denied(404, i18n.t("err.not_found"))
        info, c = found
        self.item_for(request, info.id)
        self.need_images(request)
        d = self.ws.tiles_dir(info.work, c)
        if d is None:
            raise Denied(404, "no tiles for this canvas (the iiif stage has not run)")
        rest = request.path_params["rest"]
        if rest == "info.json":
            doc = json.loads((d / "info.json").read_text("utf-8"))
            doc["id"] = str(request.base_url).rstrip("/") + tiles_url(c.id)
            return JSONResponse(doc, headers={"Cache-Control": "private, max-age=300"})
        root = d.resolve()
        p = (d / rest).resolve()
        if not p.is_relative_to(root) or p.suffix != ".jpg" or not p.is_file():
            raise Denied(404, "no such tile")
        return FileResponse(p, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})

    def tiles_for(self, info: Any, canvas: Any) -> str | None:
        """The URL of the canvas's info.json when it is tiled and the viewer is installed, else None
        (the page shows the single image)."""
        if self.osd_js is None or self.ws.tiles_dir(info.work, canvas) is None:
            return None
        return tiles_url(canvas.id) + "/info.json"

    async def audit(self, request: Request) -> Response:
        self.need(request, "review")
        rows = self.db.audit_rows(limit=500)
        user = request.state.user
        visible = []
        for r in rows:
            obj = r["object"]
            item = obj.split(":", 1)[1] if obj.startswith("record:") else None
            if obj.startswith("page:"):
                found = self.ws.canvas(obj[5:])
                item = found[0].id if found else None
            if item is not None and not self.ws.may_see(user, item):
                continue
            visible.append(r)
        return self.render(request, "audit.html", rows=visible, fmt=_fmt_time)

    # -- accounts ---------------------------------------------------------------------------------
    async def users(self, request: Request) -> Response:
        """The administrator's account list (no password hashes leave the database)."""
        self.need(request, "admin")
        rows = [{k: u[k] for k in ("name", "role", "institution", "active", "created")} for u in self.db.list_users()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"users": rows})
        codes = sorted({c for i in self.ws.items.values() for c in i.codes})
        return self.render(request, "users.html", rows=rows, roles=ROLES, codes=codes, fmt=_fmt_time,
                           done=request.query_params.get("done", ""))

    def _answer(self, request: Request, body: dict, data: dict, to: str) -> Response:
        """JSON for a script, a redirect (303, to ``to``) for a browser form."""
        if request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse(data)
        return RedirectResponse(to, 303)

    def _target(self, name: str) -> dict:
        u = self.db.user(name=name)
        if u is None:
            raise Denied.says(404, "adm.no_user", name=name)
        return u

    @staticmethod
    def _new_password(body: dict, field: str = "password") -> str:
        pw = body.get(field, "")
        if not isinstance(pw, str) or len(pw) < MIN_PASSWORD:
            raise Denied.says(400, "adm.short_password", n=MIN_PASSWORD)
        if len(pw) > 1024:
            raise Denied(400, "password too long")
        return pw

    async def user_add(self, request: Request) -> Response:
        """POST {name, role, institution, password}: a new account."""
        self.need(request, "admin")
        body = await self._json(request)
        self.check_csrf(request, body)
        name, role, inst = (str(body.get(k, "")).strip() for k in ("name", "role", "institution"))
        if not valid_name(name):
            raise Denied.says(400, "adm.bad_name")
        if role not in ROLES:
            raise Denied(400, f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if not inst or len(inst) > 200:
            raise Denied.says(400, "adm.no_institution")
        pw = self._new_password(body)
        if self.db.user(name=name) is not None:  # before hashing: argon2 costs
            raise Denied.says(409, "adm.exists", name=name)
        try:
            self.db.add_user(name, hash_password(pw), role, inst)
        except ValueError as e:
            raise Denied.says(409, "adm.exists", name=name) from e
        self._log_account(request, "user-add", name, "role", None, f"{role} {inst}")
        return self._answer(request, body, {"added": name, "role": role, "institution": inst},
                            "/admin/users?done=added")

    async def user_active(self, request: Request) -> Response:
        """POST {active: "0"|"1"}: disable (every session of the user ends) or enable an account."""
        self.need(request, "admin")
        body = await self._json(request)
        self.check_csrf(request, body)
        u = self._target(request.path_params["name"])
        active = str(body.get("active", "")).lower() in ("1", "true", "yes")
        if not active and u["id"] == request.state.user["id"]:
            raise Denied.says(409, "adm.not_yourself")
        if bool(u["active"]) != active:
            self.db.set_active(u["id"], active)
            self._log_account(request, "user-enable" if active else "user-disable", u["name"], "active",
                              str(bool(u["active"])).lower(), str(active).lower())
        return self._answer(request, body, {"name": u["name"], "active": active}, "/admin/users?done=saved")

    async def user_password(self, request: Request) -> Response:
        """POST {password}: the administrator sets a new password; the user's sessions end."""
        self.need(request, "admin")
        body = await self._json(request)
        self.check_csrf(request, body)
        u = self._target(request.path_params["name"])
        pw = self._new_password(body)
        self.db.set_password_hash(u["id"], hash_password(pw))
        ended = self.db.end_sessions(u["id"], keep=request.state.session["id"])
        self._log_account(request, "password-reset", u["name"], "password", None, None)
        return self._answer(request, body, {"name": u["name"], "sessions_ended": ended}, "/admin/users?done=saved")

    async def account(self, request: Request) -> Response:
        return self.render(request, "account.html", done=request.query_params.get("done", ""))

    async def account_password(self, request: Request) -> Response:
        """POST {old, password, again?}: any user changes their own password; the old one is needed;
        the user's other sessions end."""
        body = await self._json(request)
        self.check_csrf(request, body)
        me = self.db.user(id=request.state.user["id"])
        try:
            ok = hasher().verify(me["password_hash"], str(body.get("old", "")))
        except Exception:  # noqa: BLE001 - argon2's VerifyMismatchError / InvalidHash
            ok = False
        if not ok:
            self._log_account(request, "password-change-refused", me["name"], "password", None, None)
            raise Denied.says(403, "acct.wrong_old")
        pw = self._new_password(body)
        if "again" in body and body["again"] != pw:
            raise Denied.says(400, "acct.mismatch")
        self.db.set_password_hash(me["id"], hash_password(pw))
        self.db.end_sessions(me["id"], keep=request.state.session["id"])
        self._log_account(request, "password-change", me["name"], "password", None, None)
        return self._answer(request, body, {"changed": True}, "/account?done=changed")

    def _log_account(self, request: Request, action: str, name: str, field: str, before: Any, after: Any) -> None:
        with self.db.begin() as c:  # never a password or a hash: only that it changed
            self.db.log(c, request.state.user["name"], action, f"user:{name}", field, before, after,
                        self.address(request))

    # -- export -----------------------------------------------------------------------------------
    async def export(self, request: Request) -> Response:
        """POST: write approved record corrections and proofread pages into the work folders (what
        ``guji workspace export`` does) and report what was written."""
        self.need(request, "export")
        body = await self._json(request)
        self.check_csrf(request, body)
        who = request.state.user["name"]
        report = export_all(self, who)
        with self.db.begin() as c:
            self.db.log(c, who, "export", "workspace", None, None,
                        {"corrections": report["corrections"], "pages": report["pages"]}, self.address(request))
        if request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse(report)
        return self.render(request, "export.html", report=report)

    async def _json(self, request: Request) -> dict:
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            raise Denied(413, "request too large")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError as e:
                raise Denied(400, f"not JSON: {e}") from e
            if not isinstance(body, dict):
                raise Denied(400, "JSON object expected")
            return body
        return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _q(s: str) -> str:
    return quote(s, safe="/")


def _fmt_time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + " UTC"


# -- exports -----------------------------------------------------------------------------------------

def export_metadata(app: App, work: Path, who: str) -> tuple[Path, int]:
    """Approved corrections of ``work``'s items as the CSV ``guji metadata apply`` reads
    (``WORK/metadata/workspace-corrections.csv``), applied at once to ``corrections.jsonl`` so the next
    ``guji run`` / ``guji metadata`` builds the records (and publish the public outputs) with them."""
    import csv
    import io

    from guji.fsutil import atomic_write_text
    from guji.metadata.review import CSV_COLUMNS, apply_corrections

    reviews = app.db.reviews()
    edits = app.db.edits()
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    n = 0
    for info in app.ws.items.values():
        if info.work != Path(work).resolve() or (reviews.get(info.id) or {}).get("state") != "approved":
            continue
        for field, e in sorted(edits.get(info.id, {}).items()):
            w.writerow({"item": info.id, "field": field, "corrected_value": e["value"], "reviewer": e["who"],
                        "census_no": "", "row": info.item.record_row or "", "severity": "", "rule": "workspace",
                        "message": "", "original_value": info.item.record.get(field, "")})
            n += 1
    path = Path(work) / "metadata" / "workspace-corrections.csv"
    atomic_write_text(path, "\ufeff" + buf.getvalue())
    apply_corrections(path, Path(work), who=who)
    return path, n


def export_page(app: App, info: Any, canvas_id: str) -> Path | None:
    """The latest version of a canvas's text as :class:`guji.proofread.CanvasCorrections`."""
    from datetime import datetime, timezone

    from guji.proofread import CanvasCorrections, LineCorrection, Version, corrections_path, write_corrections

    hist = app.db.page_history(canvas_id)
    if not hist:
        return None

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")

    last_change: dict[str, dict] = {}
    for v in hist:
        for lid in v["changed"]:
            last_change[lid] = v
    latest = hist[-1]
    lines = [LineCorrection(lid, x["machine_text"], x["text"], last_change.get(lid, latest)["who"],
                            iso(last_change.get(lid, latest)["when"]), last_change.get(lid, latest)["source"])
             for lid, x in sorted(latest["lines"].items())]
    corr = CanvasCorrections(canvas_id, info.id, latest["version"], lines,
                             [Version(v["version"], v["who"], iso(v["when"]), v["source"], v["changed"]) for v in hist])
    write_corrections(info.work, corr)
    return corrections_path(info.work, info.id, canvas_id)


def export_all(app: App, who: str) -> dict[str, Any]:
    """Every export: per work folder the corrections CSV (and how many approved corrections it
    holds) and the proofread pages' files written. ``corrections`` / ``pages``: the totals."""
    works = []
    for w in app.ws.works:
        path, n = export_metadata(app, w, who)
        works.append({"work": str(w), "csv": str(path), "corrections": n, "pages": []})
    by_work = {x["work"]: x for x in works}
    for cid in sorted(app.db.proofread_canvases()):
        found = app.ws.canvas(cid)
        if found is None:
            continue
        p = export_page(app, found[0], cid)
        if p is not None:
            by_work[str(found[0].work)]["pages"].append(str(p))
    return {"works": works, "corrections": sum(x["corrections"] for x in works),
            "pages": sum(len(x["pages"]) for x in works)}


def tiles_url(canvas_id: str) -> str:
    """The workspace URL of a canvas's IIIF image service (its ``info.json`` is this + ``/info.json``)."""
    from guji.iiif import uris

    return "/tiles/" + quote(uris.slug(canvas_id), safe="")


# -- the ASGI application ------------------------------------------------------------------------------

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                    "Cache-Control": "no-store",
                    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                               "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"}


def make_app(works: list[Path], db: Database, *, secure_cookies: bool | None = None) -> Starlette:
    a = App(works, db, secure_cookies=secure_cookies)

    def wrap(handler, *, public: bool = False):
        async def endpoint(request: Request) -> Response:
            try:
                if not public:
                    cur = a.current(request)
                    if cur is None:
                        if request.url.path.startswith("/api/") or request.method != "GET":
                            resp: Response = JSONResponse({"error": "login required", "status": 401}, 401)
                        else:
                            resp = RedirectResponse("/login?next=" + quote(request.url.path, safe="/"), 303)
                        resp.headers.update(SECURITY_HEADERS)
                        return resp
                    request.state.user, request.state.session = cur
                resp = await handler(request)
            except Denied as e:
                form = request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded",
                                                                           "multipart/form-data"))
                if request.url.path.startswith("/api/") or (request.method != "GET" and not form):
                    resp = JSONResponse({"error": e.message, "status": e.status}, e.status)
                else:  # a page, or a browser form's answer: the message in the page's language
                    resp = a.render(request, "error.html", e.status, message=e.message, key=e.key, values=e.values,
                                    status=e.status)
            except Exception as e:  # noqa: BLE001 - one log line, a 500 answer, never a traceback
                log.exception("%s %s: %s", request.method, request.url.path, e)
                resp = JSONResponse({"error": "internal error", "status": 500}, 500)
            private = resp.headers.get("cache-control", "").startswith("private")  # page images and tiles
            resp.headers.update(SECURITY_HEADERS)
            if private:
                resp.headers["cache-control"] = "private, max-age=300"
            return resp
        return endpoint

    async def asset(request: Request) -> Response:
        from importlib import resources

        name = request.path_params["name"]
        if name == "openseadragon.min.js" and a.osd_js is not None:
            return Response(a.osd_js.read_bytes(), media_type="text/javascript")
        if name not in ("workspace.js", "workspace.css"):
            raise Denied(404, "no such asset")
        body = resources.files("guji.workspace").joinpath("assets", name).read_bytes()
        return Response(body, media_type="text/javascript" if name.endswith(".js") else "text/css")

    async def home(request: Request) -> Response:
        return RedirectResponse("/records" if not can(request.state.user, "proofread") or can(request.state.user, "edit")
                                else "/proofread", 303)

    get, post = ("GET",), ("POST",)
    table = [  # path, handler, methods
        ("/logout", a.logout, post),
        ("/", home, get),
        ("/records", a.records, get),
        ("/api/records", a.records, get),
        ("/record/{item:path}", a.record, get),
        ("/api/record/{item:path}/check", a.record_check, post),
        ("/api/record/{item:path}/field", a.record_field, post),
        ("/api/record/{item:path}/action", a.record_action, post),
        ("/api/record/{item:path}", a.record, get),
        ("/proofread", a.proofread_list, get),
        ("/api/proofread", a.proofread_list, get),
        ("/page/{canvas:path}", a.page, get),
        ("/api/page/{canvas:path}", a.page, get),
        ("/api/save-page/{canvas:path}", a.page_save, post),
        ("/image/{canvas:path}", a.image, get),
        ("/tiles/{slug}/{rest:path}", a.tiles, get),
        ("/admin/users", a.users, get),
        ("/api/admin/users", a.users, get),
        ("/admin/users/add", a.user_add, post),
        ("/admin/user/{name}/active", a.user_active, post),
        ("/admin/user/{name}/password", a.user_password, post),
        ("/account", a.account, get),
        ("/account/password", a.account_password, post),
        ("/export", a.export, post),
        ("/audit", a.audit, get),
        ("/assets/{name}", asset, get),
    ]
    routes = [Route("/login", wrap(a.login, public=True), methods=["GET", "POST"])]
    routes += [Route(path, wrap(h), methods=list(m)) for path, h, m in table]
    app = Starlette(routes=routes)
    app.state.workspace = a
    return app
