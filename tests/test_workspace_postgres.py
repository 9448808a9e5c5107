"""The workspace on a real PostgreSQL server (Debian's postgresql: initdb + pg_ctl in a temporary
folder, run as the `postgres` user when the tests run as root): accounts from the CLI, login,
an edit, a whole review round, the export, throttling and the audit log, through the same code
path as SQLite."""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import REPO

DEMO = REPO / "samples" / "demo-batch"
ITEM = "110000-0101-0000001"
PASSWORD = "pg password 古籍"
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
              pytest.mark.skipif(not BIN, reason="no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): "
                                                 "apt-get install postgresql (scripts/install-system.sh)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg():
    bindir = Path(BIN[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="guji-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.getuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    r = subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "guji", "--no-sync",
                        "-E", "UTF8", "--locale", "C"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    r = subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w",
                        "start"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + (root / "log").read_text(errors="replace")
    try:
        yield f"postgresql+psycopg://guji@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


from workspacekit import argon2_cost, guji_env  # noqa: E402,F401 - argon2id at OWASP's minimum cost here too


def _guji(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "guji", *args], input=stdin, capture_output=True, text=True,
                          timeout=300, env=guji_env(), cwd=REPO)


@pytest.mark.skipif(not (DEMO / "batch.toml").is_file(), reason="samples/demo-batch not in this checkout")
def test_workspace_review_round_on_postgresql(pg, tmp_path):
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    from guji.workspace.app import make_app
    from guji.workspace.db import Database

    batch = tmp_path / "batch"
    (batch / ITEM).mkdir(parents=True)
    (batch / "batch.toml").write_text('[batch]\nid = "pg"\ninstitution = "示例市图书馆"\ninstitution_code = "110000-0101"\n',
                                      "utf-8")
    (batch / "records.csv").write_text(f"普查编号,题名卷数,版本,文献类型,访问级别\n{ITEM},孟子七卷,清乾隆九十年刻本,古籍,公开\n",
                                       "utf-8")
    shutil.copy2(DEMO / "350000-2001-0000101" / "v01" / "0001.jpg", batch / ITEM / "0001.jpg")
    work = tmp_path / "work"
    from click.testing import CliRunner

    from guji.cli import main

    # the stages in this process (a `guji` process costs ~2 s of imports here); accounts as an
    # administrator makes them: one through a real `guji workspace user add` process, one in-process
    for args in (["ingest", str(batch)], ["metadata"]):
        r = CliRunner().invoke(main, [*args, "--work", str(work), "-q"])
        assert r.exit_code in (0, 8), (args, r.output)  # 8: the error the review corrects
    r = _guji("workspace", "user", "add", "lib", "--role", "cataloguer", "--institution", "110000-0101",
              "--password-stdin", "--work", str(work), "--db", pg, stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = CliRunner().invoke(main, ["workspace", "user", "add", "centre", "--role", "reviewer", "--institution", "中心",
                                  "--password-stdin", "--work", str(work), "--db", pg], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    assert not (work / "workspace.sqlite").exists()  # everything went to PostgreSQL

    db = Database(pg)
    assert db.engine.dialect.name == "postgresql"
    app = make_app([work], db)

    def login(user: str) -> TestClient:
        c = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        assert c.post("/login", data={"name": user, "password": PASSWORD}).status_code == 303
        c.csrf = re.search(r'data-csrf="([^"]+)"', c.get("/records").text).group(1)
        return c

    def act(c: TestClient, path: str, body: dict):
        return c.post(f"/api/record/{ITEM}/{path}", json=body, headers={"X-CSRF-Token": c.csrf})

    lib, centre = login("lib"), login("centre")
    assert TestClient(app).get("/api/records").status_code == 401
    assert lib.post(f"/api/record/{ITEM}/field", json={"field": "版本", "value": "x"}).status_code == 403  # no CSRF
    assert act(lib, "action", {"action": "submit"}).json()["state"] == "submitted"
    assert act(centre, "action", {"action": "return", "remark": "乾隆無九十年"}).json()["state"] == "returned"
    evil = "清乾隆四十年（1775）刻本'; DROP TABLE ws_users; --"
    r = act(lib, "field", {"field": "版本", "value": evil})
    assert r.status_code == 200
    r = act(lib, "field", {"field": "版本", "value": "清乾隆四十年（1775）刻本"})
    assert "era-year-out-of-range" not in {f["code"] for f in r.json()["findings"]}
    assert act(lib, "action", {"action": "resubmit"}).json()["state"] == "resubmitted"
    assert act(centre, "action", {"action": "approve"}).json()["state"] == "approved"
    assert "清乾隆四十年（1775）刻本" in (work / "metadata" / "corrections.jsonl").read_text("utf-8")
    bad = TestClient(app, follow_redirects=False)
    codes = [bad.post("/login", data={"name": "lib", "password": "wrong"}).status_code for _ in range(5)]
    assert codes[-1] == 429
    with db.engine.connect() as c:
        hashes = [h for (h,) in c.execute(sa.text("SELECT password_hash FROM ws_users"))]
        assert len(hashes) == 2 and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
        audit = c.execute(sa.text("SELECT who, action, field, after FROM ws_audit WHERE object = :o ORDER BY id"),
                          {"o": f"record:{ITEM}"}).all()
    assert [a[1] for a in audit if a[1] != "remark"] == ["submit", "return", "edit", "edit", "resubmit", "approve"]
    assert ("lib", "edit", "版本", evil) in [tuple(a) for a in audit]
    r = CliRunner().invoke(main, ["metadata", "--work", str(work), "-q"])
    assert r.exit_code == 0, r.output
    assert "1775" in (work / "metadata" / f"{ITEM}.json").read_text("utf-8")
    db.close()
