"""`guji serve` over real HTTP: search API, content search, static files with CORS, and refusals."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from guji.cli import main
from guji.iiif import uris
from guji.publish.server import make_server
from test_publish_fixture import BASE, make_work

A = "110000-0101-0010283"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    work = make_work(root)
    out = root / "out"
    r = CliRunner().invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "-q"])
    assert r.exit_code == 0, r.output
    (root / "secret.txt").write_text("top secret", "utf-8")  # next to the served folder
    srv = make_server(out, "127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1], out
    srv.shutdown()
    srv.server_close()


def get(port, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def test_search_api_answers_over_http(served):
    port, _ = served
    s, h, body = get(port, "/api/search?q=" + quote("万历"))
    assert s == 200 and h["access-control-allow-origin"] == "*"
    d = json.loads(body)
    s2, _, body2 = get(port, "/api/search?q=" + quote("萬曆"))
    d2 = json.loads(body2)
    assert [i["item_id"] for i in d["items"]] == [i["item_id"] for i in d2["items"]] == [A, "DF-0001"]
    assert d["items"][0]["manifest"] == uris.uri(BASE, uris.manifest_path(A))
    s, _, body = get(port, "/api/search?q=" + quote("人"))
    assert json.loads(body)["total_page_hits"] == 1


def test_content_search_endpoints(served):
    port, _ = served
    path = uris.content_search_uri(BASE, A, 2)[len(BASE) - 1:]
    s, h, body = get(port, path + "?q=" + quote("万历"))
    assert s == 200 and h["access-control-allow-origin"] == "*"
    d = json.loads(body)
    assert d["type"] == "AnnotationPage" and len(d["items"]) == 2
    canvas = uris.canvas_uri(BASE, A, f"{A}/v1/0001")
    assert any(a["target"].startswith(canvas + "#xywh=") for a in d["items"])
    s, _, body = get(port, uris.content_search_uri(BASE, A, 1)[len(BASE) - 1:] + "?q=" + quote("萬曆"))
    d1 = json.loads(body)
    assert s == 200 and d1["within"]["total"] == 2 and d1["hits"][0]["match"] == "萬曆"
    assert get(port, "/search/2/DF-SECRET?q=" + quote("萬曆"))[0] == 404  # restricted: unknown here


def test_static_files_types_and_catalogue(served):
    port, out = served
    s, h, body = get(port, "/" + uris.manifest_path(A))
    assert s == 200 and h["content-type"].startswith("application/ld+json") and h["access-control-allow-origin"] == "*"
    assert json.loads(body)["type"] == "Manifest"
    s, h, body = get(port, "/")
    assert s == 200 and h["content-type"].startswith("text/html") and b"api/search" in body
    s, h, body = get(port, "/stats/stats.svg")
    assert s == 200 and h["content-type"] == "image/svg+xml" and body.startswith(b"<svg")
    s, h, _ = get(port, "/" + uris.manifest_path(A), method="OPTIONS")
    assert s == 204 and "GET" in h["access-control-allow-methods"]


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/iiif/..%2f..%2fsecret.txt", "/iiif/%2e%2e/%2e%2e/secret.txt",
    "/..%5csecret.txt", "/.guji/published.json", "/iiif/%00/x",
])
def test_path_traversal_is_refused(served, path):
    port, _ = served
    s, _, body = get(port, path)
    assert s in (400, 403, 404) and b"top secret" not in body and b"objects" not in body


def test_oversized_and_bad_queries_are_refused(served):
    port, _ = served
    assert get(port, "/api/search?q=" + quote("字" * 201))[0] == 400  # longer than 200 characters
    assert get(port, "/api/search?q=" + "x" * 5000)[0] == 414
    assert get(port, "/api/search?q=" + quote("year:abc"))[0] == 400
    assert get(port, "/api/search?q=a&limit=zz")[0] == 400
    assert get(port, "/api/search", method="POST")[0] == 405


def test_guji_serve_command_runs(served, tmp_path):
    """The real `guji serve` process answers a search."""
    _, out = served
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen([sys.executable, "-m", "guji", "serve", str(out), "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                s, _, body = get(port, "/api/search?q=" + quote("金華"))
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("guji serve did not start")
        assert s == 200 and json.loads(body)["items"][0]["item_id"] == A
    finally:
        p.terminate()
        p.wait(10)


def test_undecodable_path_is_a_400_not_a_dropped_connection(served):
    port, _ = served
    for path in ("/%ff", "/iiif/%ff%fe/x"):
        s, _, body = get(port, path)
        assert s == 400, (path, s, body)
