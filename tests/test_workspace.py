"""The staff workspace (`guji workspace`): security over Starlette's TestClient, the review rounds and
the proofreading path through the real pipeline, and the same flows in real Chromium.

Two work folders, built by the real CLI: LIB1 = one leaf of 論語集注 from samples/demo-batch (holding
library 350000-2001, full `guji run` with OCR), LIB2 = a one-page book of another library
(110000-0101, ingest + clean + metadata only). Users: a centre reviewer, a cataloguer and a
proofreader of LIB1, a cataloguer of LIB2.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers import REPO
from workspacekit import argon2_cost, guji_env  # noqa: F401 - argon2_cost is an autouse fixture

DEMO = REPO / "samples" / "demo-batch"
A = "350000-2001-0000101"
B = "110000-0101-0000001"
B_RESTRICTED = "110000-0101-0000002"  # 访问级别 限制
CANVAS_A = f"{A}/v01/0001"
SLUG_A = CANVAS_A.replace("/", "_")  # its IIIF image-service folder: build/iiif/images/<slug>
PASSWORD = "correct horse 古籍"
USERS = {"centre": ("reviewer", "中心"), "cat1": ("cataloguer", "350000-2001"), "proof1": ("proofreader", "350000-2001"),
         "cat2": ("cataloguer", "110000-0101"), "proof2": ("proofreader", "110000-0101"), "root": ("admin", "中心")}

pytestmark = [pytest.mark.skipif(not (DEMO / "batch.toml").is_file(), reason="samples/demo-batch not in this checkout"),
              pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")]
# argon2id at OWASP's minimum cost (t=2, 19 MiB; 2 lanes) instead of argon2-cffi's defaults (t=3,
# 64 MiB, 4 lanes): ~0.1 s a hash instead of ~0.9 s on the loaded test machine, and the tests log in
# some 40 times. The hashes are argon2id all the same; test_argon2_parameters checks the defaults,
# the setting and its floor.
def _guji(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = guji_env()
    return subprocess.run([sys.executable, "-m", "guji", *args], input=stdin, capture_output=True, text=True,
                          timeout=600, env=env, cwd=REPO)


def make_lib1(root: Path) -> Path:
    batch = root / "lib1"
    (batch / A / "v01").mkdir(parents=True)
    shutil.copy2(DEMO / "batch.toml", batch / "batch.toml")
    lines = (DEMO / "records.csv").read_text("utf-8").splitlines()
    (batch / "records.csv").write_text("\n".join([lines[0], next(ln for ln in lines if ln.startswith(A))]) + "\n", "utf-8")
    shutil.copy2(DEMO / A / "v01" / "0001.jpg", batch / A / "v01" / "0001.jpg")
    return batch


def make_lib2(root: Path) -> Path:
    batch = root / "lib2"
    (batch / B).mkdir(parents=True)
    (batch / "batch.toml").write_text('[batch]\nid = "lib2"\ninstitution = "示例市图书馆"\ninstitution_code = "110000-0101"\n'
                                      'rights = "http://creativecommons.org/licenses/by/4.0/"\n', "utf-8")
    (batch / "records.csv").write_text("普查编号,题名卷数,著者,版本,定级,破损级别,文献类型,访问级别\n"
                                       f"{B},孟子七卷,（宋）朱熹撰,清刻本,三級甲等,二級,古籍,公开\n"
                                       f"{B_RESTRICTED},大學一卷,（宋）朱熹撰,清刻本,,,古籍,限制\n", "utf-8")
    for item in (B, B_RESTRICTED):
        (batch / item).mkdir(exist_ok=True)
        shutil.copy2(DEMO / A / "v01" / "0001.jpg", batch / item / "0001.jpg")
    return batch


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    b1, b2 = make_lib1(root), make_lib2(root)
    w1, w2, out = root / "w1", root / "w2", root / "out"
    env = guji_env()
    # LIB1's full `guji run` (with OCR) in its own process, while LIB2's stages run in this one
    run1 = subprocess.Popen([sys.executable, "-m", "guji", "run", str(b1), "--work", str(w1), "--out", str(out),
                             "-j", "1", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=REPO)
    from click.testing import CliRunner

    from guji.cli import main

    try:
        for args in (["ingest", str(b2)], ["clean"], ["metadata"]):  # no OCR needed here
            r = CliRunner().invoke(main, [*args, "--work", str(w2), "-j", "1", "-q"])
            assert r.exit_code == 0, (args, r.output)
    finally:
        _out, err = run1.communicate(timeout=600)
    assert run1.returncode == 0, err
    db = root / "ws.sqlite"
    # one account through the command line (as an administrator makes them; in this process: a
    # `guji` process costs ~2 s of imports here), the others directly
    r = CliRunner().invoke(main, ["workspace", "user", "add", "centre", "--role", "reviewer", "--institution", "中心",
                                  "--password-stdin", "--work", str(w1), "--db", str(db)], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    from guji.workspace.app import hash_password
    from guji.workspace.db import Database, db_url

    database = Database(db_url(str(db), w1))
    for name, (role, inst) in USERS.items():
        if name != "centre":
            database.add_user(name, hash_password(PASSWORD), role, inst)
    database.close()
    return {"root": root, "batch": b1, "w1": w1, "w2": w2, "out": out, "db": db}


@pytest.fixture(scope="module")
def app(site):
    from guji.workspace.app import make_app
    from guji.workspace.db import Database, db_url

    return make_app([site["w1"], site["w2"]], Database(db_url(str(site["db"]), site["w1"])))


_SESSIONS: dict[tuple, object] = {}


def client(app, user: str | None = None, address: str = "127.0.0.1", password: str = PASSWORD, fresh: bool = False):
    """A TestClient, logged in as ``user`` when given. A login costs an argon2 verification (~0.3 s
    here), so one logged-in client per (app, user, address) is shared by the tests that are not
    about logging in (``fresh=True``: a new login)."""
    from starlette.testclient import TestClient

    key = (id(app), user, address)
    if user and not fresh and key in _SESSIONS:
        return _SESSIONS[key]
    c = TestClient(app, base_url="http://127.0.0.1", client=(address, 50000), follow_redirects=False)
    if user:
        r = c.post("/login", data={"name": user, "password": password, "next": "/"})
        assert r.status_code == 303, r.text
        c.csrf = re.search(r'data-csrf="([^"]+)"', c.get("/records").text).group(1)
        if not fresh:
            _SESSIONS[key] = c
    return c


def post(c, url: str, body: dict, csrf: bool = True):
    return c.post(url, json=body, headers={"X-CSRF-Token": c.csrf} if csrf else {})


VIEWER_NODE = REPO / "tests" / "viewer" / "node_modules"
NODE = shutil.which("node")
browser_missing = [why for cond, why in (
    (Path("/usr/bin/chromium").exists(), "Debian chromium not at /usr/bin/chromium (apt-get install chromium)"),
    (NODE is not None, "node not on PATH"),
    ((VIEWER_NODE / "playwright-core").is_dir(), "playwright-core not installed: run scripts/install-viewer.sh"),
) if not cond]



# -- security ------------------------------------------------------------------------------------

def test_every_page_and_api_refuses_without_a_session(app):
    from urllib.parse import quote

    c = client(app)
    paths = {"/", "/records", "/api/records", f"/record/{A}", f"/api/record/{A}", "/proofread", "/api/proofread",
             f"/page/{quote(CANVAS_A)}", f"/api/page/{quote(CANVAS_A)}", f"/image/{quote(CANVAS_A)}", "/audit",
             "/assets/workspace.js", "/assets/workspace.css", "/assets/openseadragon.min.js",
             f"/tiles/{SLUG_A}/info.json", f"/tiles/{SLUG_A}/full/max/0/default.jpg", "/admin/users",
             "/api/admin/users", "/account"}
    routes = {r.path for r in app.routes}
    assert len(routes) == 27  # a new route must be added to this test
    for p in sorted(paths):
        r = c.get(p)
        assert r.status_code in (303, 401), (p, r.status_code)
        assert r.status_code == 401 or r.headers["location"].startswith("/login"), p
        assert "350000" not in r.text and "論語" not in r.text, p
    for p in (f"/api/record/{A}/check", f"/api/record/{A}/field", f"/api/record/{A}/action",
              f"/api/save-page/{quote(CANVAS_A)}", "/logout", "/admin/users/add", "/admin/user/cat1/active",
              "/admin/user/cat1/password", "/account/password", "/export"):
        r = c.post(p, json={"field": "版本", "value": "x", "action": "submit", "lines": {}})
        assert r.status_code == 401, p
    # a forged cookie is no session either
    c.cookies.set("guji_ws", "IjEi.forged")
    assert c.get("/api/records").status_code == 401


def test_library_user_gets_403_on_another_librarys_item(app):
    from urllib.parse import quote

    c = client(app, "cat2")
    assert [r["item"] for r in c.get("/api/records").json()["records"]] == [B, B_RESTRICTED]
    assert c.get(f"/record/{A}").status_code == 403
    assert c.get(f"/api/record/{A}").status_code == 403
    assert c.get(f"/image/{quote(CANVAS_A)}").status_code == 403
    r = post(c, f"/api/record/{A}/field", {"field": "版本", "value": "清刻本"})
    assert r.status_code == 403 and "error" in r.json()
    assert post(c, f"/api/record/{A}/action", {"action": "submit"}).status_code == 403
    assert c.get(f"/record/{B}").status_code == 200
    # the same library's proofreader may not proofread the other library's pages either
    p = client(app, "proof1")
    canvas_b = f"{B}/1/0001"
    assert p.get(f"/api/page/{quote(canvas_b)}").status_code == 403
    assert post(p, f"/api/save-page/{quote(canvas_b)}", {"lines": {}}).status_code == 403
    # the centre's reviewer sees both libraries
    rv = client(app, "centre")
    assert sorted(r["item"] for r in rv.get("/api/records").json()["records"]) == sorted([A, B, B_RESTRICTED])


def test_change_without_csrf_token_is_refused(app, site):
    c = client(app, "cat2")
    for headers in ({}, {"X-CSRF-Token": "wrong"}):
        r = c.post(f"/api/record/{B}/field", json={"field": "著者", "value": "（宋）某撰"}, headers=headers)
        assert r.status_code == 403 and "CSRF" in r.json()["error"]
    r = c.post(f"/api/record/{B}/action", data={"action": "submit"})  # a form without the csrf field
    assert r.status_code == 403
    with sqlite3.connect(site["db"]) as db:
        assert db.execute("SELECT COUNT(*) FROM ws_edits WHERE item=?", (B,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM ws_reviews WHERE item=?", (B,)).fetchone()[0] == 0


def test_passwords_never_stored_in_clear(app, site):
    raw = site["db"].read_bytes()
    for p in (site["db"].with_name(site["db"].name + "-wal"),):
        if p.exists():
            raw += p.read_bytes()
    assert PASSWORD.encode() not in raw and "correct horse".encode() not in raw
    with sqlite3.connect(site["db"]) as db:
        hashes = [h for (h,) in db.execute("SELECT password_hash FROM ws_users")]
    assert len(hashes) >= len(USERS) and all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == len(hashes)  # salted
    with sqlite3.connect(site["db"]) as db:  # the account made on the command line is in the audit log
        row = db.execute("SELECT who, action, after FROM ws_audit WHERE object='user:centre'").fetchone()
    assert row[0].startswith("cli:") and row[1:] == ("user-add", "reviewer 中心")


def test_injection_like_string_stored_verbatim_and_rendered_escaped(app, site):
    evil = "'); DROP TABLE ws_users; -- <script>alert('x')</script> \" OR 1=1"
    c = client(app, "cat2")
    with sqlite3.connect(site["db"]) as db:
        n_users = db.execute("SELECT COUNT(*) FROM ws_users").fetchone()[0]
    r = post(c, f"/api/record/{B}/field", {"field": "批校题跋", "value": evil})
    assert r.status_code == 200, r.text
    with sqlite3.connect(site["db"]) as db:
        assert db.execute("SELECT value FROM ws_edits WHERE item=? AND field=?", (B, "批校题跋")).fetchone()[0] == evil
        assert db.execute("SELECT COUNT(*) FROM ws_users").fetchone()[0] == n_users >= len(USERS)
    html = c.get(f"/record/{B}").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert c.get(f"/api/record/{B}").json()["fields"][6] == ["批校题跋", evil]


def test_failed_logins_are_throttled(app):
    c = client(app, address="10.0.0.9")
    codes = [c.post("/login", data={"name": "cat1", "password": f"wrong{i}"}).status_code for i in range(5)]
    assert codes[:4] == [401] * 4 and codes[4] == 429
    # locked: even the right password is refused for a while, from this address
    assert c.post("/login", data={"name": "cat1", "password": PASSWORD}).status_code == 429
    assert client(app, "cat1", address="10.0.0.10", fresh=True)  # another address is not locked out


def test_restricted_fields_never_shown_to_roles_that_may_not_see_them(app):
    p = client(app, "proof1")
    doc = p.get(f"/api/record/{A}").json()
    names = [f for f, _v in doc["fields"]]
    assert "定级" not in names and "破损级别" not in names and "附注" not in names
    text = json.dumps(doc, ensure_ascii=False) + p.get(f"/record/{A}").text
    assert "三級乙等" not in text and "定级" not in text and "破损级别" not in text
    c = client(app, "cat1")
    text = json.dumps(c.get(f"/api/record/{A}").json(), ensure_ascii=False)
    assert "三級乙等" in text  # the library's cataloguer sees the grade
    assert post(p, f"/api/record/{A}/field", {"field": "定级", "value": "一級"}).status_code == 403
    # a restricted item (访问级别 限制) is not there for a proofreader of its own library
    from urllib.parse import quote

    p2 = client(app, "proof2")
    assert [r["item"] for r in p2.get("/api/records").json()["records"]] == [B]
    assert [b["item"] for b in p2.get("/api/proofread").json()["books"]] == [B]
    for url in (f"/record/{B_RESTRICTED}", f"/api/record/{B_RESTRICTED}", f"/image/{quote(B_RESTRICTED)}/1/0001",
                f"/api/page/{quote(B_RESTRICTED)}/1/0001"):
        assert p2.get(url).status_code == 403, url
    assert "大學" not in p2.get("/records").text


def test_argon2_parameters(monkeypatch):
    from guji.errors import BadBatch
    from guji.workspace.app import argon2_params, hasher

    monkeypatch.delenv("GUJI_WORKSPACE_ARGON2")
    h = hasher()  # unset: argon2-cffi's defaults
    assert (h.time_cost, h.memory_cost, h.parallelism) == (3, 65536, 4) and h.type.name == "ID"
    monkeypatch.setenv("GUJI_WORKSPACE_ARGON2", "t=2,m=19456,p=2")
    h = hasher()
    assert (h.time_cost, h.memory_cost, h.parallelism) == (2, 19456, 2) and h.type.name == "ID"
    with pytest.raises(BadBatch, match="below OWASP's minimum"):
        argon2_params("t=1,m=19456")
    with pytest.raises(BadBatch, match="below OWASP's minimum.*memory_cost=1024"):
        argon2_params("m=1024")
    with pytest.raises(BadBatch, match="expected t=N,m=KIB,p=N"):
        argon2_params("fast")


# -- page images: deep zoom over the IIIF tiles, the single image without them ---------------------

def test_tiles_served_behind_login_and_the_image_rights(app, site):
    """The item's level-0 IIIF service from the work folder's build: info.json with its id made the
    workspace's URL, the tiles byte for byte; another library's user and a proofreader of a restricted
    item are refused as for the image; nothing outside the canvas's service folder is served."""
    from urllib.parse import quote

    service = site["w1"] / "build" / "iiif" / "images" / SLUG_A
    assert (service / "info.json").is_file()  # `guji run` tiled the leaf
    p = client(app, "proof1")
    info = p.get(f"/tiles/{SLUG_A}/info.json").json()
    assert info["id"] == f"http://127.0.0.1/tiles/{SLUG_A}" and info["profile"] == "level0" and info["width"] > 500
    tile = next(f for f in sorted(service.rglob("default.jpg")) if "full" not in f.relative_to(service).parts)
    rel = tile.relative_to(service).as_posix()
    r = p.get(f"/tiles/{SLUG_A}/{rel}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content == tile.read_bytes()
    assert r.headers["cache-control"].startswith("private")  # kept in this browser only, never by a proxy
    # outside the service folder: the access JPEG of the same canvas, by a climbing path
    access = app.state.workspace.ws.canvas(CANVAS_A)[1].access.path
    assert (site["w1"] / access).is_file() and access.endswith(".jpg")
    climb = quote("../../../../" + access, safe="")
    assert p.get(f"/tiles/{SLUG_A}/{climb}").status_code == 404
    assert p.get(f"/tiles/{SLUG_A}/nope/0/default.jpg").status_code == 404
    # another library's cataloguer: 403, as for /image
    c2 = client(app, "cat2")
    for url in (f"/tiles/{SLUG_A}/info.json", f"/tiles/{SLUG_A}/{rel}", f"/image/{quote(CANVAS_A)}"):
        assert c2.get(url).status_code == 403, url
    # a restricted item is refused before anything is looked up; an allowed untiled page is 404
    slug_r, slug_b = f"{B_RESTRICTED}_1_0001", f"{B}_1_0001"
    assert client(app, "proof2").get(f"/tiles/{slug_r}/info.json").status_code == 403
    assert c2.get(f"/tiles/{slug_b}/info.json").status_code == 404
    assert client(app, "proof2").get(f"/tiles/{slug_b}/info.json").status_code == 404


def test_views_use_the_deep_zoom_viewer_when_tiled_else_the_single_image(app):
    from urllib.parse import quote

    ws = app.state.workspace
    assert ws.osd_js is not None, "OpenSeadragon not installed: run scripts/install-viewer.sh"
    p, c1, c2 = client(app, "proof1"), client(app, "cat1"), client(app, "cat2")
    assert p.get(f"/api/page/{quote(CANVAS_A)}").json()["tiles"] == f"/tiles/{SLUG_A}/info.json"
    page = p.get(f"/page/{quote(CANVAS_A)}").text
    assert f'data-tiles="/tiles/{SLUG_A}/info.json"' in page and "/assets/openseadragon.min.js" in page
    assert 'id="page-image"' not in page
    rec = c1.get(f"/record/{A}").text
    assert 'id="osd"' in rec and 'id="page-select"' in rec and 'class="thumbs"' not in rec
    js = p.get("/assets/openseadragon.min.js")
    assert js.status_code == 200 and js.content == ws.osd_js.read_bytes()
    # lib2 has no IIIF build: its pages are the single image, no viewer script
    doc = client(app, "proof2").get(f"/api/page/{quote(B)}/1/0001").json()
    assert doc["tiles"] is None
    page = client(app, "proof2").get(f"/page/{quote(B)}/1/0001").text
    assert 'id="page-image"' in page and 'id="osd"' not in page and "openseadragon" not in page
    rec = c2.get(f"/record/{B}").text
    assert 'class="thumbs"' in rec and 'id="osd"' not in rec
    # without OpenSeadragon installed the tiled item falls back to the single image too
    saved, ws.osd_js = ws.osd_js, None
    try:
        assert 'id="page-image"' in p.get(f"/page/{quote(CANVAS_A)}").text
        assert p.get("/assets/openseadragon.min.js").status_code == 404
    finally:
        ws.osd_js = saved


# -- accounts in the browser ---------------------------------------------------------------------------

def test_account_administration(app, site):
    """The admin lists, adds, disables / enables and resets accounts; every other role gets 403; every
    change needs the CSRF token and is in the audit log, without any password; a disabled user's
    sessions end and it cannot log in; a user changes its own password with the old one."""
    admin, cat = client(app, "root"), client(app, "cat1")
    new_pw, reset_pw, own_pw = "newbie 密碼 one", "reset 密碼 two", "own 密碼 three"
    form = {"name": "newbie", "role": "proofreader", "institution": "350000-2001", "password": new_pw}

    def audit(obj: str) -> list[tuple]:
        with sqlite3.connect(site["db"]) as db:
            return db.execute("SELECT who, action, field, before, after FROM ws_audit WHERE object=? ORDER BY id",
                              (obj,)).fetchall()

    # other roles: 403 on every admin route, with or without the token; nothing changes
    for other in (cat, client(app, "centre"), client(app, "proof1")):
        assert other.get("/admin/users").status_code == 403 and other.get("/api/admin/users").status_code == 403
        assert 'id="nav-users"' not in other.get("/records").text
        for url, body in (("/admin/users/add", form), ("/admin/user/cat2/active", {"active": "0"}),
                          ("/admin/user/cat2/password", {"password": reset_pw})):
            assert other.post(url, data={**body, "csrf": other.csrf}).status_code == 403, url
    # the admin without the CSRF token: refused
    assert admin.post("/admin/users/add", data=form).status_code == 403
    assert admin.post("/admin/user/cat2/active", data={"active": "0"}).status_code == 403
    assert "newbie" not in [u["name"] for u in admin.get("/api/admin/users").json()["users"]]
    # add: a form post, then the list; bad input is an error page naming the problem
    r = admin.post("/admin/users/add", data={**form, "csrf": admin.csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?done=added"
    users = {u["name"]: u for u in admin.get("/api/admin/users").json()["users"]}
    assert users["newbie"]["role"] == "proofreader" and users["newbie"]["active"]
    assert "password_hash" not in users["newbie"]
    assert 'data-user="newbie"' in admin.get("/admin/users").text
    r = admin.post("/admin/users/add", data={**form, "name": "short", "password": "1234567", "csrf": admin.csrf})
    assert r.status_code == 400 and "密码至少 8 个字符" in r.text and 'data-i18n-fmt="adm.short_password" data-n="8"' in r.text
    assert admin.post("/admin/users/add", data={**form, "csrf": admin.csrf}).status_code == 409  # exists
    assert post(admin, "/admin/users/add", {**form, "name": "a/b"}).status_code == 400  # a URL segment
    assert audit("user:newbie") == [("root", "user-add", "role", None, "proofreader 350000-2001")]
    # disable: the user's open session ends at once and logging in is refused; enable: back in
    nb = client(app, "newbie", password=new_pw, fresh=True)
    assert nb.get("/api/proofread").status_code == 200
    r = admin.post("/admin/user/newbie/active", data={"active": "0", "csrf": admin.csrf})
    assert r.status_code == 303
    assert nb.get("/api/proofread").status_code == 401
    with sqlite3.connect(site["db"]) as db:
        uid = db.execute("SELECT id FROM ws_users WHERE name='newbie'").fetchone()[0]
        assert db.execute("SELECT COUNT(*) FROM ws_sessions WHERE user_id=?", (uid,)).fetchone()[0] == 0
    anon = client(app, address="10.0.0.21")
    assert anon.post("/login", data={"name": "newbie", "password": new_pw}).status_code == 401
    assert post(admin, "/admin/user/newbie/active", {"active": "1"}).json() == {"name": "newbie", "active": True}
    nb = client(app, "newbie", password=new_pw, address="10.0.0.22", fresh=True)
    # the admin cannot lock itself out
    assert post(admin, "/admin/user/root/active", {"active": "0"}).status_code == 409
    # reset: the old password no longer works, the new one does, the user's session ended
    r = post(admin, "/admin/user/newbie/password", {"password": reset_pw})
    assert r.json() == {"name": "newbie", "sessions_ended": 1}
    assert nb.get("/api/proofread").status_code == 401
    assert anon.post("/login", data={"name": "newbie", "password": new_pw}).status_code == 401
    nb = client(app, "newbie", password=reset_pw, address="10.0.0.23", fresh=True)
    other_session = client(app, "newbie", password=reset_pw, address="10.0.0.24", fresh=True)
    # the user's own change: the old password is required; the other sessions end, this one stays
    assert nb.get("/account").status_code == 200
    r = nb.post("/account/password", data={"old": "wrong password", "password": own_pw, "again": own_pw, "csrf": nb.csrf})
    assert r.status_code == 403 and "原密码不正确" in r.text
    r = nb.post("/account/password", data={"old": reset_pw, "password": own_pw, "again": own_pw + "x", "csrf": nb.csrf})
    assert r.status_code == 400
    assert nb.post("/account/password", data={"old": reset_pw, "password": own_pw, "again": own_pw}).status_code == 403
    r = nb.post("/account/password", data={"old": reset_pw, "password": own_pw, "again": own_pw, "csrf": nb.csrf})
    assert r.status_code == 303 and r.headers["location"] == "/account?done=changed"
    assert nb.get("/api/proofread").status_code == 200 and other_session.get("/api/proofread").status_code == 401
    assert anon.post("/login", data={"name": "newbie", "password": reset_pw}).status_code == 401
    client(app, "newbie", password=own_pw, address="10.0.0.25", fresh=True)
    # the audit log: who did what to whom; no password, no hash, in it or anywhere in the database
    assert [a[:2] for a in audit("user:newbie")] == [
        ("root", "user-add"), ("root", "user-disable"), ("root", "user-enable"), ("root", "password-reset"),
        ("newbie", "password-change-refused"), ("newbie", "password-change")]
    assert audit("user:newbie")[1][3:] == ("true", "false")
    raw = b"".join(f.read_bytes() for f in site["db"].parent.glob(site["db"].name + "*"))
    for pw in (new_pw, reset_pw, own_pw):
        assert pw.encode() not in raw
    assert "$argon2" not in json.dumps(audit("user:newbie"))


# -- export from the browser ---------------------------------------------------------------------------

def test_export_button_writes_and_reports(app, site):
    """The export (roles with the right: the centre's reviewer, the admin) writes the approved
    corrections and the proofread pages and says what it wrote; others get 403 and no button."""
    from urllib.parse import quote

    for name in ("cat1", "proof1", "cat2"):
        c = client(app, name)
        assert 'id="export"' not in c.get("/records").text
        assert c.post("/export", data={"csrf": c.csrf}).status_code == 403
    centre = client(app, "centre")
    assert 'id="export"' in centre.get("/records").text
    assert centre.post("/export", data={}).status_code == 403  # no CSRF token
    # a proofread page to export (whatever the other tests did): proof1 saves a line
    p = client(app, "proof1")
    doc = p.get(f"/api/page/{quote(CANVAS_A)}").json()
    ln = next(x for x in doc["lines"] if x["type"] == "body" and len(x["text"]) > 3)
    assert post(p, f"/api/save-page/{quote(CANVAS_A)}", {"lines": {ln["id"]: ln["text"][:-1] + "匚"}}).status_code == 200
    cfile = site["w1"] / "proofread" / A / f"{SLUG_A.split('_', 1)[1]}.json"
    cfile.unlink()  # the save wrote it; the export must write it again
    rep = post(centre, "/export", {}).json()
    assert [w["work"] for w in rep["works"]] == [str(site["w1"].resolve()), str(site["w2"].resolve())]
    w1 = rep["works"][0]
    assert w1["csv"] == str(site["w1"].resolve() / "metadata" / "workspace-corrections.csv")
    rows = (site["w1"] / "metadata" / "workspace-corrections.csv").read_text("utf-8-sig").splitlines()[1:]
    assert w1["corrections"] == len(rows) and rep["corrections"] == sum(w["corrections"] for w in rep["works"])
    assert w1["pages"] == [str(cfile.resolve())] and cfile.is_file() and rep["pages"] == 1
    assert "匚" in cfile.read_text("utf-8")
    html = centre.post("/export", data={"csrf": centre.csrf})
    assert html.status_code == 200 and str(cfile.resolve()) in html.text and 'data-i18n-fmt="exp.summary"' in html.text
    with sqlite3.connect(site["db"]) as db:
        rows = db.execute("SELECT who, after FROM ws_audit WHERE action='export' ORDER BY id").fetchall()
    assert rows[-1][0] == "centre" and json.loads(rows[-1][1])["pages"] == 1


def test_progress_label_goes_through_the_i18n_table(app):
    from guji.workspace import i18n

    html = client(app, "proof1").get("/proofread").text
    m = re.search(r'<span class="progress" data-i18n-fmt="pr.progress" data-d="(\d+)" data-n="(\d+)">([^<]+)<', html)
    assert m and m.group(3) == f"已校 {m.group(1)} / {m.group(2)} 叶"
    assert i18n.table()["en"]["pr.progress"].format(d=1, n=2) == "1 of 2 pages proofread"
    assert i18n.table()["zh-Hant"]["pr.progress"] == "已校 {d} / {n} 葉"


# -- review rounds and proofreading through the pipeline ---------------------------------------------

def review_round(app, item: str, field: str, value: str) -> None:
    cat, centre = client(app, "cat1"), client(app, "centre")
    assert post(cat, f"/api/record/{item}/action", {"action": "submit"}).json()["state"] == "submitted"
    assert post(centre, f"/api/record/{item}/action", {"action": "return"}).status_code == 400  # remark needed
    assert post(centre, f"/api/record/{item}/action", {"action": "return", "remark": "版本年代有誤"}).status_code == 200
    assert post(cat, f"/api/record/{item}/action", {"action": "approve"}).status_code == 403  # not a cataloguer's
    r = post(cat, f"/api/record/{item}/check", {"field": field, "value": "清乾隆九十年刻本"})
    assert "era-year-out-of-range" in {f["code"] for f in r.json()["findings"]}  # live check, not saved
    r = post(cat, f"/api/record/{item}/field", {"field": field, "value": value})
    assert r.json()["saved"] and "era-year-out-of-range" not in {f["code"] for f in r.json()["findings"]}
    assert post(cat, f"/api/record/{item}/action", {"action": "resubmit"}).json()["state"] == "resubmitted"
    assert post(centre, f"/api/record/{item}/action", {"action": "approve"}).json()["state"] == "approved"
    assert post(cat, f"/api/record/{item}/field", {"field": field, "value": "x"}).status_code == 409


def proofread_line(app) -> tuple[str, str, str]:
    """Change the 3rd character of the longest body line; returns (line id, new text, a 3-character probe)."""
    from urllib.parse import quote

    p = client(app, "proof1")
    doc = p.get(f"/api/page/{quote(CANVAS_A)}").json()
    ln = max((x for x in doc["lines"] if x["type"] == "body"), key=lambda x: len(x["text"]))
    new = ln["text"][:2] + "鼂" + ln["text"][3:]
    r = post(p, f"/api/save-page/{quote(CANVAS_A)}", {"lines": {ln["id"]: new}})
    assert r.status_code == 200 and r.json()["changed"] == [ln["id"]]
    return ln["id"], new, new[1:4]


def check_published(site, line_id: str, new: str, probe: str, remark_field: tuple[str, str] | None = None) -> None:
    from guji.ocr.render import from_alto
    from guji.publish.index import SearchIndex

    w1, out = site["w1"], site["out"]
    base = w1 / "ocr" / A / "v01_0001"
    doc = json.loads(base.with_suffix(".json").read_text("utf-8"))
    line = next(ln for r in doc["regions"] for ln in r["lines"] if ln["id"] == line_id)
    assert line["text"] == new and line["corrected"] and doc["proofread"]["who"] == ["proof1"]
    alto = from_alto((w1 / "ocr" / A / "v01_0001.alto.xml").read_bytes())
    assert new in json.dumps(alto, ensure_ascii=False)
    assert new in (w1 / "ocr" / A / "v01_0001.txt").read_text("utf-8")
    machine = json.loads((w1 / "ocr-machine" / A / "v01_0001.machine.json").read_text("utf-8"))
    assert "鼂" not in json.dumps(machine, ensure_ascii=False)
    annos = json.dumps(json.loads(next((out / "iiif" / A / "annotations").glob("*.json")).read_text("utf-8")),
                       ensure_ascii=False)
    assert new in annos
    with SearchIndex(out / "search" / "index.sqlite") as idx:
        hits, total = idx.search_item(A, probe)
        assert total >= 1 and any(not h.get("uncertain") for h in hits), hits
    if remark_field:
        rec = json.loads((w1 / "metadata" / f"{A}.json").read_text("utf-8"))
        assert rec["original"][remark_field[0]] == remark_field[1]
        # publish carries the approved correction: the IIIF manifest and the MODS record
        assert remark_field[1] in (out / "iiif" / A / "manifest.json").read_text("utf-8")
        assert remark_field[1] in (out / "metadata" / f"{A}.mods.xml").read_text("utf-8")


def rerun(site) -> str:
    r = _guji("run", str(site["batch"]), "--work", str(site["w1"]), "--out", str(site["out"]), "-j", "1", "--json")
    assert r.returncode == 0, r.stderr[-3000:]
    ocr = next(s for s in json.loads(r.stdout)["stages"] if s["stage"] == "ocr")
    assert ocr["done"] == 0 and ocr["skipped"] == 1, ocr  # recognition did not run again
    return r.stdout


@pytest.mark.slow
def test_review_round_and_proofreading_reach_the_publication(app, site):
    from guji.ocr.stage import STAGE
    from guji.state import StateStore

    with StateStore(site["w1"]) as st:
        before = st.get(STAGE, CANVAS_A)
    review_round(app, A, "版本", "清乾隆四十一年（1776）刻本")
    csv_text = (site["w1"] / "metadata" / "workspace-corrections.csv").read_text("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("item,census_no,row,field") and "清乾隆四十一年（1776）刻本" in csv_text
    assert "清乾隆四十一年（1776）刻本" in (site["w1"] / "metadata" / "corrections.jsonl").read_text("utf-8")
    version = (app.state.workspace.db.page_version(CANVAS_A) or {}).get("version", 0)  # the export test saved one
    line_id, new, probe = proofread_line(app)
    from guji.proofread import CanvasCorrections, load_corrections

    corr, _sha = load_corrections(site["w1"], A, CANVAS_A)
    mine = next(x for x in corr.lines if x.line == line_id)
    assert corr.version == version + 1 and mine.who == "proof1" and mine.source == "human" and mine.text == new
    assert CanvasCorrections.from_dict(corr.to_dict()) == corr
    # the audit log names who changed what, before and after
    with sqlite3.connect(site["db"]) as db:
        rows = db.execute("SELECT who, action, field, before, after FROM ws_audit WHERE object=?",
                          (f"page:{CANVAS_A}",)).fetchall()
    assert rows[-1][:3] == ("proof1", "proofread", line_id) and rows[-1][4] == new
    if not browser_missing:
        return  # test_browser_review_round_and_proofreading takes the same corrections through `guji run`
    publish_and_check(site, before, line_id, new, probe)


def publish_and_check(site, before, line_id: str, new: str, probe: str) -> None:
    """`guji run` again: OCR not re-run, corrections in the outputs, `guji verify` content."""
    from guji.ocr.stage import STAGE
    from guji.state import StateStore

    rerun(site)
    with StateStore(site["w1"]) as st:
        after = st.get(STAGE, CANVAS_A)
    assert after.fingerprint == before.fingerprint and after.info["proofread"]
    check_published(site, line_id, new, probe, ("版本", "清乾隆四十一年（1776）刻本"))
    from click.testing import CliRunner

    from guji.cli import main

    r = CliRunner().invoke(main, ["verify", "--work", str(site["w1"]), "-q"])  # the re-derived outputs are the ones recorded
    assert r.exit_code == 0, r.output[-2000:]


def test_corrections_contract_round_trip_and_errors(tmp_path):
    from guji.errors import BadBatch
    from guji.proofread import FORMAT, CanvasCorrections, LineCorrection, Version, apply

    c = CanvasCorrections("X/v1/0001", "X", 2, [LineCorrection("r1l1", "子日", "子曰", "a", "2026-01-01T00:00:00+00:00")],
                          [Version(1, "a", "2026-01-01T00:00:00+00:00", "human", ["r1l1"])])
    assert CanvasCorrections.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    bad = c.to_dict()
    bad["lines"][0]["source"] = "robot"
    with pytest.raises(BadBatch, match=r"lines\[0\]\.source"):
        CanvasCorrections.from_dict(bad, "f.json")
    with pytest.raises(BadBatch, match="not a " + FORMAT):
        CanvasCorrections.from_dict({"format": "x"})
    doc = {"canvas": "X/v1/0001", "page": "X/v1/0001", "item": "X", "master_size": [100, 100], "layout": "vertical-rtl",
           "regions": [{"id": "r1", "type": "body", "box": [0, 0, 50, 100], "lines": [
               {"id": "r1l1", "box": [10, 10, 20, 40], "direction": "ttb", "text": "子日", "confidence": 0.5, "column": 1,
                "chars": [{"text": "子", "box": [10, 10, 20, 20], "confidence": 0.9},
                          {"text": "日", "box": [10, 30, 20, 20], "confidence": 0.3, "low": True,
                           "alternatives": [["日", 0.3], ["曰", 0.2]]}]},
               {"id": "r1l2", "box": [40, 10, 20, 40], "direction": "ttb", "text": "學", "confidence": 0.9, "column": 2,
                "chars": [{"text": "學", "box": [40, 10, 20, 40], "confidence": 0.9}]}]}],
           "flags": ["ocr-low-confidence-chars"]}
    out, probs = apply(doc, c)
    ch = out["regions"][0]["lines"][0]["chars"][1]
    assert ch == {"text": "曰", "box": [10, 30, 20, 20], "confidence": 1.0, "corrected": True,
                  "alternatives": [["日", 0.3], ["曰", 0.2]]}
    assert out["text"] == "子曰\n學" and "ocr-low-confidence-chars" not in out["flags"] and not probs
    assert doc["regions"][0]["lines"][0]["text"] == "子日"  # the machine model is not changed
    # another length: the line's box is shared among the new characters
    c.lines = [LineCorrection("r1l2", "學", "學而", "a", "2026-01-01T00:00:00+00:00")]
    out, _ = apply(doc, c)
    assert [x["box"] for x in out["regions"][0]["lines"][1]["chars"]] == [[40, 10, 20, 20], [40, 30, 20, 20]]
    # a correction made on another reading is not put on the line
    c.lines = [LineCorrection("r1l2", "舉", "學而", "a", "2026-01-01T00:00:00+00:00")]
    out, probs = apply(doc, c)
    assert out["regions"][0]["lines"][1]["text"] == "學" and [p.code for p in probs] == ["proofread-stale"]


# -- real Chromium -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path_factory):
    """`guji workspace serve` of a fresh copy of the site's folders (a real process, real HTTP)."""
    def start(site):
        port = _free_port()
        env = guji_env()
        proc = subprocess.Popen([sys.executable, "-m", "guji", "workspace", "serve", "--work", str(site["w1"]),
                                 "--work", str(site["w2"]), "--db", str(site["db"]), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}/"
        for _ in range(200):
            try:
                with urllib.request.urlopen(url + "login", timeout=2):
                    return url
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode(errors="replace"))
                time.sleep(0.1)
        raise RuntimeError("guji workspace serve did not answer")

    procs: list[subprocess.Popen] = []
    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        if p.stderr:
            p.stderr.close()


BROWSER_SCRIPT = r"""
import { pathToFileURL } from "url";
const { launch, watch } = await import(pathToFileURL(process.env.VIEWER_DIR + "/browser.mjs").href);
const [base, password, item, canvas] = process.argv.slice(2);
const browser = await launch();
const out = (o) => console.log(JSON.stringify(o));
const contexts = {};  // one browser (cookie jar) per user, logged in once
async function as(user, fn) {
  let ctx = contexts[user];
  const first = !ctx;
  if (first) ctx = contexts[user] = await browser.newContext();
  const page = await ctx.newPage();
  const log = watch(page);
  page.on("console", (m) => { if (m.type() === "error") log.errors.push("console: " + m.text()); });
  await page.goto(base + "record/" + encodeURIComponent(item));
  if (first) {
    await page.fill("#name", user);
    await page.fill("#password", password);
    await Promise.all([page.waitForNavigation(), page.click("#login")]);
  }
  await page.waitForLoadState("networkidle");  // the record page's images are in
  const r = await fn(page);
  out({ user, ...r, failed: log.failed.filter((u) => !u.includes("/login")), errors: log.errors });
  await page.close();
}
// a wrong password first: the page says so, no session
{
  const ctx = await browser.newContext(); const page = await ctx.newPage();
  await page.goto(base + "login"); await page.fill("#name", "cat1"); await page.fill("#password", "nope");
  await Promise.all([page.waitForNavigation(), page.click("#login")]);
  out({ step: "bad-login", error: await page.textContent("#login-error"), url: page.url() }); await ctx.close();
}
await as("cat1", async (page) => {
  await Promise.all([page.waitForNavigation(), page.click("#act-submit")]);
  return { step: "submit", state: await page.getAttribute("#state", "data-state") };
});
await as("centre", async (page) => {
  await page.fill("#remark-input", "版本：乾隆四十年當為四十一年");
  await Promise.all([page.waitForNavigation(), page.click("#act-return")]);
  return { step: "return", state: await page.getAttribute("#state", "data-state"), remark: await page.textContent("#remark") };
});
await as("cat1", async (page) => {
  const remark = await page.textContent("#remark");
  const inp = 'input.field[data-field="版本"]';
  await page.fill(inp, "清乾隆九十年（1775）刻本");          // live check: an impossible year
  await page.waitForSelector('#findings li[data-code="era-year-out-of-range"]');
  const live = await page.$$eval("#findings li", (els) => els.map((e) => e.dataset.code));
  await page.fill(inp, "清乾隆四十一年（1776）刻本");
  await page.waitForFunction(() => !document.querySelector('#findings li[data-code="era-year-out-of-range"]'));
  await page.click('button.save[data-field="版本"]');
  await page.waitForSelector('button.save[data-field="版本"].saved');
  await Promise.all([page.waitForNavigation(), page.click("#act-resubmit")]);
  return { step: "resubmit", remark, live, state: await page.getAttribute("#state", "data-state"),
           value: await page.inputValue(inp) };
});
await as("centre", async (page) => {
  await Promise.all([page.waitForNavigation(), page.click("#act-approve")]);
  return { step: "approve", state: await page.getAttribute("#state", "data-state"),
           history: await page.$$eval("#history tr", (rs) => rs.map((r) => r.textContent)) };
});
await as("proof1", async (page) => {
  await page.goto(base + "proofread");
  const before = await page.getAttribute(`#books li[data-item="${item}"]`, "data-done");
  const tiles = [];
  page.on("response", (r) => { if (r.url().includes("/tiles/") && r.ok()) tiles.push(r.url().split("/tiles/")[1]); });
  await page.goto(base + "page/" + canvas.split("/").map(encodeURIComponent).join("/"));
  const tiled = !!(await page.$("#osd"));
  if (tiled) {   // the deep-zoom viewer over the IIIF tiles
    await page.waitForSelector('#osd[data-ready="1"]');
    await page.waitForFunction(() => window.gujiViewer.world.getItemAt(0).getFullyLoaded());
  } else {
    await page.waitForFunction(() => document.getElementById("page-image").complete && document.getElementById("page-image").naturalWidth > 0);
  }
  const mode = await page.$eval("#columns", (e) => getComputedStyle(e).writingMode);
  const low = await page.$$eval(".col .ch.low", (els) => els.map((e) => ({ t: e.textContent, alt: e.dataset.alt })));
  let picked = null;
  // a low-confidence character (or, when the recogniser was sure of every one, any character with
  // alternatives): its alternatives are offered, one is chosen
  const target = low.length ? ".col .ch.low" : ".col .ch[data-alt]:not([data-alt=''])";
  if (await page.$(target)) {
    await page.click(target);
    await page.waitForSelector("#alternatives:not([hidden]) button.alt");
    const alts = await page.$$eval("#alternatives button.alt", (bs) => bs.map((b) => b.textContent));
    const box = await page.$eval(tiled ? "#viewer-box" : "#char-box", (e) => ({ hidden: e.hidden, w: e.getBoundingClientRect().width }));
    picked = { alts, box };
  }
  // a column's box: a click on the column itself (between its characters)
  await page.$eval(".col.body .chars", (e) => e.dispatchEvent(new MouseEvent("click", { bubbles: true })));
  const colBox = tiled ? await page.$eval("#viewer-box", (e) => ({ cls: e.className, h: e.getBoundingClientRect().height })) : null;
  // correct a line by hand: the longest body column, third character
  const line = await page.$$eval(".col.body", (cs) => cs.map((c) => ({ id: c.dataset.line, t: c.dataset.machine }))
                                                    .sort((a, b) => [...b.t].length - [...a.t].length)[0]);
  const chars = [...line.t]; chars[2] = "鼂";
  const text = chars.join("");
  await page.click(`button.edit[data-line="${line.id}"]`);
  await page.fill(`textarea[data-line="${line.id}"]`, text);
  await page.click("#save-page");
  await page.waitForFunction(() => document.getElementById("save-status").dataset.version);
  const version = await page.$eval("#save-status", (e) => e.dataset.version);
  await page.screenshot({ path: process.env.ARTIFACTS + "/workspace-proofread.png" });
  await page.goto(base + "proofread");
  const after = await page.getAttribute(`#books li[data-item="${item}"]`, "data-done");
  const sel = `#books li[data-item="${item}"] .progress`;
  const zh = await page.textContent(sel);
  await page.click('.langs button[data-lang="en"]');
  const en = await page.textContent(sel);
  await page.click('.langs button[data-lang="zh-Hant"]');
  const hant = await page.textContent(sel);
  await page.click('.langs button[data-lang="zh-Hans"]');
  return { step: "proofread", mode, low, picked, line: line.id, text, version, before, after, tiled, tiles, colBox,
           progress: [zh, en, hant] };
});
await browser.close();
"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(bool(browser_missing), reason="; ".join(browser_missing))
def test_browser_review_round_and_proofreading(tmp_path, site, served):
    """Log in, return a record with a remark, correct, resubmit, approve, proofread a line in Chromium;
    after `guji run` the corrected characters are found by search, in the annotations and the ALTO."""
    # a copy of the site (so the TestClient tests above keep theirs)
    root = tmp_path / "copy"
    shutil.copytree(site["root"], root, symlinks=True)
    mine = {k: root / Path(v).relative_to(site["root"]) if isinstance(v, Path) else v for k, v in site.items()}
    mine["batch"] = root / "lib1"
    with sqlite3.connect(mine["db"]) as db:  # a fresh review state
        for t in ("ws_reviews", "ws_edits", "ws_page_versions", "ws_login_failures"):
            db.execute(f"DELETE FROM {t}")
    for p in (mine["w1"] / "proofread", mine["w1"] / "metadata" / "corrections.jsonl"):
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    url = served(mine)
    artifacts = REPO / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with (tmp_path / "driver.mjs").open("w", encoding="utf-8") as f:
        f.write(BROWSER_SCRIPT)
    proc = subprocess.run([NODE, str(tmp_path / "driver.mjs"), url, PASSWORD, A, CANVAS_A], capture_output=True,
                          text=True, timeout=180,
                          env={**os.environ, "VIEWER_DIR": str(VIEWER_NODE.parent), "ARTIFACTS": str(artifacts)})
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-3000:])
    steps = {d.get("step"): d for d in map(json.loads, filter(lambda s: s.startswith("{"), proc.stdout.splitlines()))}
    assert steps["bad-login"]["error"] == "用户名或密码不正确" and steps["bad-login"]["url"].endswith("/login")
    for name in ("submit", "return", "resubmit", "approve", "proofread"):
        assert not steps[name]["failed"] and not steps[name]["errors"], steps[name]
    assert steps["submit"]["state"] == "submitted"
    assert steps["return"]["state"] == "returned" and "四十一年" in steps["return"]["remark"]
    rs = steps["resubmit"]
    assert "四十一年" in rs["remark"] and "era-year-out-of-range" in rs["live"] and rs["state"] == "resubmitted"
    assert steps["approve"]["state"] == "approved"
    pr = steps["proofread"]
    assert pr["mode"] == "vertical-rl" and pr["version"] == "1" and (pr["before"], pr["after"]) == ("0", "1")
    # exactly the characters the page model flags as low-confidence are marked (how many there are is the
    # recogniser's business); a clicked character offers the recogniser's alternatives
    from guji.model import ocr_json_path
    from guji.pagetext import BODY_REGION_TYPES

    model = json.loads(ocr_json_path(mine["w1"], A, CANVAS_A).read_text("utf-8"))
    flagged = [c["text"] for r in model["regions"] if r["type"] in (*BODY_REGION_TYPES, "centre-column")
               for ln in r.get("lines") or [] for c in ln.get("chars") or [] if c.get("low")]
    assert [d["t"] for d in pr["low"]] == flagged, (pr["low"], flagged)
    assert pr["picked"] and pr["picked"]["alts"], pr
    assert not pr["picked"]["box"]["hidden"] and pr["picked"]["box"]["w"] > 3  # its box is drawn on the image
    # the page image is the deep-zoom viewer over the leaf's IIIF tiles, served by the workspace
    assert pr["tiled"] and f"{SLUG_A}/info.json" in pr["tiles"] and any(t.endswith("default.jpg") for t in pr["tiles"])
    assert "column" in pr["colBox"]["cls"] and pr["colBox"]["h"] > pr["picked"]["box"]["w"]  # a column's box: tall
    assert pr["progress"] == ["已校 1 / 1 叶", "1 of 1 pages proofread", "已校 1 / 1 葉"]
    with sqlite3.connect(mine["db"]) as db:
        assert db.execute("SELECT who, action, field, after FROM ws_audit WHERE object=? ORDER BY id DESC LIMIT 1",
                          (f"page:{CANVAS_A}",)).fetchone() == ("proof1", "proofread", pr["line"], pr["text"])
    from guji.ocr.stage import STAGE
    from guji.state import StateStore

    with StateStore(mine["w1"]) as st:
        before = st.get(STAGE, CANVAS_A)
    publish_and_check(mine, before, pr["line"], pr["text"], pr["text"][1:4])


def test_every_message_the_templates_use_exists_in_three_languages():
    from importlib import resources

    from guji.workspace import i18n

    used: set[str] = set()
    for f in resources.files("guji.workspace").joinpath("templates").iterdir():
        used |= set(re.findall(r"""(?:\bt\(\s*["']|data-i18n=["']|:)((?:ws|login|list|state|rec|act|pr|err|adm|acct|exp|role|au)\.[a-z_]+)""",
                               f.read_text("utf-8")))
    js = resources.files("guji.workspace").joinpath("assets", "workspace.js").read_text("utf-8")
    used |= set(re.findall(r"""GUJI\.t\(\s*["']([a-z_]+\.[a-z_]+)["']""", js))
    used |= set(re.findall(r"""data-i18n-fmt=["']([a-z_]+\.[a-z_]+)["']""", "".join(
        f.read_text("utf-8") for f in resources.files("guji.workspace").joinpath("templates").iterdir())))
    used |= {f"state.{s}" for s in ("draft", "submitted", "returned", "resubmitted", "approved")}
    used |= {f"act.{a}" for a in ("submit", "return", "resubmit", "approve")}
    used |= {f"role.{r}" for r in ("reviewer", "cataloguer", "proofreader", "admin")}
    used |= {f"au.{k}" for k in ("when", "who", "action", "object", "field", "before", "after", "address")}
    used |= {f"adm.{k}" for k in ("name", "role", "institution", "status", "created", "active", "disabled", "enable",
                                  "disable", "added", "saved", "no_user", "short_password", "bad_name", "exists",
                                  "not_yourself", "no_institution")}
    used |= {"acct.wrong_old", "acct.mismatch"}
    assert len(used) > 40 and not sorted(used - set(i18n.MESSAGES))
    table = i18n.table()
    assert table["zh-Hant"]["ws.records"] == "著錄審校" and table["en"]["ws.records"] == "Record review"
    assert all(table[lang][k] for lang in ("zh-Hans", "zh-Hant", "en") for k in i18n.MESSAGES)


def test_ocr_stage_applies_and_withdraws_corrections_without_recognising(site, app, tmp_path):
    """guji.proofread.sync_ocr as the OCR stage calls it after its page tasks: corrections added →
    the page model and renderings re-derived from the machine model; corrections withdrawn → the
    machine model's outputs back, byte for byte for the JSON; the stage record stays current."""
    from guji.clikit import make_context
    from guji.model import canvas_slug, load_canvases
    from guji.proofread import corrections_path, sync_ocr
    from guji.stage import PageTask

    work = tmp_path / "w1"
    shutil.copytree(site["w1"], work)
    if not corrections_path(work, A, CANVAS_A).exists():  # the TestClient review test may not have run
        proofread_line(app)
        shutil.copytree(site["w1"] / "proofread", work / "proofread", dirs_exist_ok=True)
    ocr_json = work / "ocr" / A / "v01_0001.json"
    cfile = corrections_path(work, A, CANVAS_A)
    saved = cfile.read_bytes()
    tasks = [PageTask(key=c.id, inputs={}, item_id=c.item_id,
                      payload={"item": c.item_id, "canvas": c.id, "slug": canvas_slug(c.id, c.item_id),
                               "image": c.ocr.path}) for c in load_canvases(work) if c.item_id == A]
    ctx = make_context(work, quiet=True)
    try:
        cfile.unlink()  # start from the recogniser's outputs (a run without a browser applied them already)
        assert sync_ocr(ctx, "ocr", tasks) == []
        machine_bytes = ocr_json.read_bytes()
        assert "鼂" not in machine_bytes.decode("utf-8")
        cfile.write_bytes(saved)
        fp = ctx.store.get("ocr", CANVAS_A).fingerprint
        assert sync_ocr(ctx, "ocr", tasks) == []
        rec = ctx.store.get("ocr", CANVAS_A)
        assert rec.fingerprint == fp and ctx.store.is_current("ocr", CANVAS_A, fp) and rec.info["proofread"]
        doc = json.loads(ocr_json.read_text("utf-8"))
        assert doc["proofread"]["who"] == ["proof1"] and "鼂" in doc["text"]
        assert "proofread" in (work / "ocr" / A / "v01_0001.page.xml").read_text("utf-8")  # provenance step
        assert (work / "ocr-machine" / A / "v01_0001.machine.json").read_bytes() == machine_bytes
        assert sync_ocr(ctx, "ocr", tasks) == []  # nothing changed: nothing rewritten
        assert ctx.store.get("ocr", CANVAS_A).updated == rec.updated
        corrections_path(work, A, CANVAS_A).unlink()
        sync_ocr(ctx, "ocr", tasks)
        assert ocr_json.read_bytes() == machine_bytes and not (work / "ocr-machine" / A / "v01_0001.machine.json").exists()
        rec = ctx.store.get("ocr", CANVAS_A)
        assert rec.info["proofread"] is None and ctx.store.is_current("ocr", CANVAS_A, fp)
        # a malformed corrections file is an error naming the file, not a crash
        corrections_path(work, A, CANVAS_A).write_text('{"format": "guji-proofread/1", "lines": 3}', "utf-8")
        probs = sync_ocr(ctx, "ocr", tasks)
        assert [p.code for p in probs] == ["proofread-unreadable"] and "lines must be list" in probs[0].message
    finally:
        ctx.executor.close()
        ctx.store.close()
