"""`guji serve` (Starlette + uvicorn) over real HTTP: search API, content search, static files with CORS,
refusals of malformed or oversized requests, idle timeouts, and ids rewritten when served at another address."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from guji.cli import main
from guji.iiif import uris
from guji.publish.server import start_server
from publishwork import A, BASE, make_work



@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    work = make_work(root)
    out = root / "out"
    r = CliRunner().invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "-q"])
    assert r.exit_code == 0, r.output
    (root / "secret.txt").write_text("top secret", "utf-8")  # next to the served folder
    srv = start_server(out, "127.0.0.1", 0)
    yield srv.port, out
    srv.stop()


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
    assert d["items"][0]["manifest"] == uris.uri(f"http://127.0.0.1:{port}/", uris.manifest_path(A))
    s, _, body = get(port, "/api/search?q=" + quote("人"))
    assert json.loads(body)["total_page_hits"] == 1


def test_content_search_endpoints(served):
    port, _ = served
    path = uris.content_search_uri(BASE, A, 2)[len(BASE) - 1:]
    s, h, body = get(port, path + "?q=" + quote("万历"))
    assert s == 200 and h["access-control-allow-origin"] == "*"
    d = json.loads(body)
    assert d["type"] == "AnnotationPage" and len(d["items"]) == 2
    canvas = uris.canvas_uri(f"http://127.0.0.1:{port}/", A, f"{A}/v1/0001")  # ids rewritten to this address
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
    assert s == 200 and h["content-type"].startswith("text/html") and b"viewer/assets/catalogue.js" in body
    s, h, body = get(port, "/viewer/assets/catalogue.js")
    assert s == 200 and h["content-type"].startswith("text/javascript") and b"api/catalogue" in body
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


def test_catalogue_api_facets_sort_paging(served):
    port, _ = served
    d = json.loads(get(port, "/api/catalogue")[2])
    assert d["total"] == 2 and {i["item_id"] for i in d["items"]} == {A, "DF-0001"}
    tree = d["facets"]["classification"]
    assert [n["label"] for n in tree] == ["史部", "子部"] and all(n["count"] == 1 for n in tree)
    # a facet filters; the other facets are counted within the filter, its own keeps its choices
    d = json.loads(get(port, "/api/catalogue?f=" + quote("dynasty:明"))[2])
    assert [i["item_id"] for i in d["items"]] == [A]
    assert {v["value"]: v["count"] for v in d["facets"]["dynasty"]} == {"明": 1, "清": 1}
    assert [n["label"] for n in d["facets"]["classification"]] == ["史部"]
    # values of one facet OR, facets AND
    both = "f=" + quote("dynasty:明") + "&f=" + quote("dynasty:清")
    assert json.loads(get(port, "/api/catalogue?" + both)[2])["total"] == 2
    assert json.loads(get(port, "/api/catalogue?" + both + "&f=" + quote("classification:子部"))[2])["total"] == 1
    assert json.loads(get(port, "/api/catalogue?year=1700-1800")[2])["total"] == 1  # 清乾隆 1736-1795
    # sorting and paging
    by_date = json.loads(get(port, "/api/catalogue?sort=date")[2])
    assert [i["item_id"] for i in by_date["items"]] == [A, "DF-0001"]  # 萬曆 before 乾隆
    p1 = json.loads(get(port, "/api/catalogue?sort=date&per_page=1&page=1")[2])
    p2 = json.loads(get(port, "/api/catalogue?sort=date&per_page=1&page=2")[2])
    assert p1["pages"] == 2 and [i["item_id"] for i in p1["items"] + p2["items"]] == [A, "DF-0001"]
    # full text: per-book page hit counts (the text "萬曆" is on both pages of A)
    d = json.loads(get(port, "/api/catalogue?q=" + quote("万历"))[2])
    hits = {i["item_id"]: i["page_hits"] for i in d["items"]}
    assert hits[A] == 2 and d["items"][0]["item_id"] == A
    for bad in ("f=" + quote("grade:一级"), "sort=random", "page=x", "year=abc"):
        assert get(port, "/api/catalogue?" + bad)[0] == 400, bad


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


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read until the server closes or answers; b"" = connection dropped silently."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks):
                    break
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


@pytest.mark.parametrize("request_bytes, statuses", [
    # more than 20 query parameters (the server used to drop the connection with a traceback)
    (b"GET /api/search?" + b"&".join(b"p%d=1" % i for i in range(40)) + b" HTTP/1.1\r\nHost: x\r\n\r\n", (400,)),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (414,)),
    (b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (400, 414, 431)),  # over the header buffer
    (b"GET /api/search?q=%E4%B8 HTTP/1.1\r\nHost: x\r\n\r\n", (400,)),  # a cut UTF-8 sequence
    (b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", (404,)),  # not an escape: a literal name that is not there
    (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", (405,)),
    (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", (400,)),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", (400,)),  # TLS hello to a plain port
])
def test_malformed_requests_get_a_4xx_answer(served, request_bytes, statuses):
    port, _ = served
    answer = raw_exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    status = int(answer[9:12])
    assert status in statuses, answer[:300]
    assert b"Traceback" not in answer
    # and the server still answers normally afterwards
    assert get(port, "/api/search?q=" + quote("金華"))[0] == 200


def test_idle_connections_are_closed_and_do_not_block_others(tmp_path):
    """Idle connections (never sending a request) are closed after the idle timeout; meanwhile and
    afterwards the server answers; beyond the connection limit it says 503 instead of hanging."""
    import socket

    work = make_work(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["publish", "--work", str(work), "--out", str(out), "-j", "1", "-q"]).exit_code == 0
    with start_server(out, "127.0.0.1", 0, limit_concurrency=10, idle_timeout=1) as srv:
        idle = [socket.create_connection(("127.0.0.1", srv.port), timeout=5) for _ in range(30)]
        try:
            time.sleep(0.3)
            s, _, _ = get(srv.port, "/index.html")
            assert s in (200, 503)  # bounded: either served or told to come back, never hung
            t0 = time.monotonic()
            closed = 0
            for c in idle:
                try:
                    if c.recv(1) == b"":
                        closed += 1
                except (ConnectionResetError, TimeoutError):
                    closed += 1
            assert closed == len(idle) and time.monotonic() - t0 < 4
        finally:
            for c in idle:
                c.close()
        assert get(srv.port, "/index.html")[0] == 200


def test_ids_are_rewritten_when_served_at_another_address(served):
    """The fixture's build is for http://127.0.0.1:8000/; served on another port, the manifest, the
    annotation pages and the search answers point at the address actually used."""
    port, out = served
    here = f"http://127.0.0.1:{port}/"
    assert BASE != here
    s, _, body = get(port, "/" + uris.manifest_path(A))
    m = json.loads(body)
    assert m["id"] == here + uris.manifest_path(A)
    assert BASE.encode() not in body
    services = [c["items"][0]["items"][0]["body"]["service"][0]["id"] for c in m["items"]]
    assert all(sv.startswith(here) for sv in services)
    info = get(port, "/" + services[0][len(here):] + "/info.json")
    assert info[0] == 200 and json.loads(info[2])["id"] == services[0]
    d = json.loads(get(port, "/api/search?q=" + quote("万历"))[2])
    assert d["items"][0]["manifest"] == here + uris.manifest_path(A)
    cs = json.loads(get(port, "/search/2/" + A + "?q=" + quote("万历"))[2])
    assert cs["id"].startswith(here) and all(a["target"].startswith(here) for a in cs["items"])
    # the file on disk is unchanged
    assert json.loads((out / uris.manifest_path(A)).read_text("utf-8"))["id"] == BASE + uris.manifest_path(A)
