"""``guji serve``: a small HTTP server for a published folder (or a local build).

Serves static files with CORS and the publication's Content-Types, the search API
(``/api/search?q=``, ``/api/stats``) and IIIF Content Search (``/search/2/<item>?q=``,
``/search/1/<item>?q=``, the paths of :func:`guji.iiif.uris.content_search_uri`). Paths are
resolved inside the root only (``..``, encoded slashes, NUL and symlinks out of the root are
refused with 403/400); request lines, queries and bodies have size limits.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from guji.errors import GujiError
from guji.iiif import uris
from guji.publish.storage import content_type

log = logging.getLogger("guji.serve")

MAX_URL = 2048
MAX_QUERY = 200
MAX_LIMIT = 100


class Handler(BaseHTTPRequestHandler):
    server_version = "guji-serve"
    protocol_version = "HTTP/1.1"
    root: Path
    index_path: Path
    base_url: str
    _local = threading.local()

    # -- plumbing -------------------------------------------------------------------------------
    def log_message(self, fmt: str, *args: Any) -> None:  # quiet by default
        log.debug("%s - %s", self.address_string(), fmt % args)

    def _headers(self, status: int, ctype: str, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self._headers(status, ctype, len(body), extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200, ctype: str = "application/json") -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), ctype)

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message, "status": status}, status)

    def _index(self):
        from guji.publish.index import SearchIndex

        idx = getattr(self._local, "idx", None)
        if idx is None or idx.path != self.index_path:
            idx = SearchIndex(self.index_path)
            self._local.idx = idx
        return idx

    # -- methods --------------------------------------------------------------------------------
    def do_OPTIONS(self) -> None:  # noqa: N802 - CORS preflight
        self._send(204, b"", "text/plain", {"Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                                            "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "3600"})

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_POST(self) -> None:  # noqa: N802
        self._error(405, "read-only server")

    do_PUT = do_DELETE = do_POST  # noqa: N815

    def do_GET(self) -> None:  # noqa: N802
        if len(self.path) > MAX_URL:
            return self._error(414, f"URL longer than {MAX_URL} bytes")
        parts = urlsplit(self.path)
        params = parse_qs(parts.query, keep_blank_values=True, max_num_fields=20)
        raw_path = parts.path
        try:
            if raw_path == "/api/search":
                return self._api_search(params)
            if raw_path == "/api/stats":
                return self._static("stats/stats.json")
            if raw_path.startswith("/search/1/") or raw_path.startswith("/search/2/"):
                return self._content_search(int(raw_path[8]), raw_path[10:], params)
            return self._static(raw_path)
        except ValueError as e:  # includes UnicodeDecodeError: %-escapes that are not UTF-8
            return self._error(400, str(e))
        except GujiError as e:  # no index in this folder
            return self._error(503, str(e))

    # -- search ---------------------------------------------------------------------------------
    def _q(self, params: dict[str, list[str]]) -> str:
        q = (params.get("q") or [""])[0]
        if len(q) > MAX_QUERY:
            raise ValueError(f"query longer than {MAX_QUERY} characters")
        return q

    def _int(self, params: dict[str, list[str]], name: str, default: int, hi: int) -> int:
        try:
            v = int((params.get(name) or [default])[0])
        except ValueError:
            raise ValueError(f"{name} must be a number") from None
        return max(0, min(hi, v))

    def _api_search(self, params: dict[str, list[str]]) -> None:
        from guji.publish.index import QueryError

        q = self._q(params)
        try:
            r = self._index().search(q, limit=self._int(params, "limit", 20, MAX_LIMIT),
                                     offset=self._int(params, "offset", 0, 10**6))
        except QueryError as e:
            return self._error(400, str(e))
        self._json(r)

    def _content_search(self, version: int, item_path: str, params: dict[str, list[str]]) -> None:
        from guji.publish.contentsearch import search1, search2

        item_id = unquote(item_path).strip("/")
        if not item_id or "/" in item_id or ".." in item_id:
            return self._error(404, "no such item")
        idx = self._index()
        if idx.item(item_id) is None:
            return self._error(404, "no such item")
        q = self._q(params)
        hits, total = idx.search_item(item_id, q)
        service = uris.content_search_uri(self.base_url, item_id, version)
        if version == 2:
            self._json(search2(hits, service_uri=service, query=q, total=total), ctype="application/ld+json")
        else:
            self._json(search1(hits, service_uri=service, query=q, total=total), ctype="application/ld+json")

    # -- static files -----------------------------------------------------------------------------
    def _static(self, raw_path: str) -> None:
        path = unquote(raw_path, errors="strict")
        if "\x00" in path or "\\" in path:
            return self._error(400, "bad path")
        norm = posixpath.normpath("/" + path.lstrip("/"))
        segments = [s for s in path.split("/") if s]
        if any(s in ("..", ".") or s.startswith(".") for s in segments):
            return self._error(403, "path not allowed")
        target = (self.root / norm.lstrip("/")).resolve()
        root = self.root.resolve()
        if target != root and not target.is_relative_to(root):
            return self._error(403, "path not allowed")
        if target.is_dir():
            if not raw_path.endswith("/"):
                return self._send(301, b"", "text/plain", {"Location": raw_path + "/"})
            target = target / "index.html"
        if not target.is_file():
            return self._error(404, "not found")
        key = target.relative_to(root).as_posix()
        size = target.stat().st_size
        self._headers(200, content_type(key), size, {"Cache-Control": "no-cache"})
        if self.command != "HEAD":
            with open(target, "rb") as f:
                while chunk := f.read(1 << 16):
                    self.wfile.write(chunk)


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 8000,
                base_url: str | None = None) -> ThreadingHTTPServer:
    root = Path(root)
    index_path = root / uris.search_index_path()
    if base_url is None:
        base_url = f"http://{host}:{port}/"
        if index_path.exists():
            from guji.publish.index import SearchIndex

            with SearchIndex(index_path) as idx:
                base_url = idx.meta().get("base_url") or base_url
    handler = type("GujiHandler", (Handler,), {"root": root, "index_path": index_path,
                                               "base_url": uris.norm_base(base_url), "_local": threading.local()})
    srv = ThreadingHTTPServer((host, port), handler)
    srv.daemon_threads = True
    return srv


def serve(root: str | Path, host: str = "127.0.0.1", port: int = 8000) -> None:
    srv = make_server(root, host, port)
    log.warning("serving %s on http://%s:%d/ (Ctrl-C to stop)", os.fspath(root), host, srv.server_address[1])
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
