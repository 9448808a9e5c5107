"""``guji serve``: a publication (or a local build) over HTTP, on Starlette + uvicorn.

Serves static files with CORS and the publication's Content-Types, the catalogue API
(``/api/catalogue?q=&f=&sort=&page=``, :mod:`guji.publish.catalogue`), the search API
(``/api/search?q=``), ``/api/stats`` and IIIF Content Search (``/search/2/<item>?q=``,
``/search/1/<item>?q=``, the paths of :func:`guji.iiif.uris.content_search_uri`).

Safety: paths are resolved inside the root only (``..``, encoded slashes, NUL, hidden files and
symlinks out of the root are refused with 403/400); URLs over :data:`MAX_URL` bytes get 414, more
than :data:`MAX_PARAMS` query parameters or bad %-escapes 400, unknown methods 405; every error
is a small JSON answer, never a traceback or a dropped connection. uvicorn bounds the
concurrent connections (``limit_concurrency``: 503 beyond it) and closes idle ones
(``timeout_keep_alive``, also for a connection that never sends a request).

Base URL: the manifests' ids are under the base URL the publication was built for. When the
server is reached at another address (``guji serve out --port 8011`` for a build made for
``https://books.example.org/``), the JSON it serves (IIIF documents, API answers) has that base
rewritten to the address the request came to, so the reader works locally; the log says so once.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from guji.errors import GujiError
from guji.iiif import uris
from guji.publish.storage import content_type

log = logging.getLogger("guji.serve")

MAX_URL = 2048
MAX_QUERY = 200
MAX_LIMIT = 100
MAX_PARAMS = 20
MAX_REWRITE_BYTES = 32 << 20  # JSON documents larger than this are sent as they are
LIMIT_CONCURRENCY = 64  # connections + running requests; beyond: 503
IDLE_TIMEOUT = 5  # seconds a connection may sit without sending a request
METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"]


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


class Publication:
    """What the server knows about the folder it serves; the request handlers live here."""

    def __init__(self, root: Path, base_url: str | None, rewrite: bool = True):
        self.root = Path(root).resolve()
        self.index_path = self.root / uris.search_index_path()
        built_for = None
        if self.index_path.exists():
            from guji.publish.index import SearchIndex

            try:
                with SearchIndex(self.index_path) as idx:
                    built_for = idx.meta().get("base_url")
            except Exception as e:  # noqa: BLE001 - a broken index must not stop static serving
                log.warning("search index %s unreadable: %s", self.index_path, e)
        if built_for is None:
            from guji.publish.site import detect_base_url

            built_for = detect_base_url(self.root, default="") if (self.root / "iiif").is_dir() else ""
            built_for = "" if built_for == "/" else built_for
        self.base_url = uris.norm_base(base_url or built_for) if (base_url or built_for) else ""
        self.rewrite = rewrite
        self._local = threading.local()
        self._said: set[str] = set()
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------------
    def here(self, request: Request) -> str:
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return f"{request.url.scheme}://{host}/"

    def rewrite_for(self, request: Request) -> tuple[str, str] | None:
        """(built-for base, this address) when ids must be rewritten for this request."""
        here = self.here(request)
        if not self.rewrite or not self.base_url or self.base_url == here:
            return None
        with self._lock:
            if here not in self._said:
                self._said.add(here)
                log.warning("the publication's ids are under %s but it is served at %s: ids in IIIF documents "
                            "and search answers are rewritten to %s for browsing here", self.base_url, here, here)
        return self.base_url, here

    def json(self, request: Request, obj: Any, status: int = 200, ctype: str = "application/json") -> Response:
        body = _json_bytes(obj)
        rw = self.rewrite_for(request)
        if rw:
            body = body.replace(rw[0].encode(), rw[1].encode())
        return Response(body, status, media_type=ctype, headers=common_headers())

    def index(self):
        from guji.publish.index import SearchIndex

        idx = getattr(self._local, "idx", None)
        if idx is None:
            idx = SearchIndex(self.index_path)
            self._local.idx = idx
        return idx

    def catalogue(self):
        from guji.publish.catalogue import Catalogue

        from guji.publish.catalogue import RECORDS_PATH

        try:
            stamp = (self.root / RECORDS_PATH).stat().st_mtime_ns
        except OSError:
            stamp = None
        cached = getattr(self._local, "cat", None)
        if cached is None or cached[0] != stamp:  # re-read after a publish into the served folder
            cached = (stamp, Catalogue.load(self.root))
            self._local.cat = cached
        return cached[1]

    # -- dispatch ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(b"", 204, headers={**common_headers(), "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
                                               "Access-Control-Allow-Headers": "*",
                                               "Access-Control-Max-Age": "3600"})
        if method not in ("GET", "HEAD"):
            raise BadRequest(405, "read-only server")
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        raw_query: bytes = request.scope.get("query_string") or b""
        if len(raw_path) + len(raw_query) + 1 > MAX_URL:
            raise BadRequest(414, f"URL longer than {MAX_URL} bytes")
        try:
            path = unquote_to_bytes(raw_path.decode("ascii")).decode("utf-8")
            params = parse_qs(raw_query.decode("ascii"), keep_blank_values=True, max_num_fields=MAX_PARAMS,
                              encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise BadRequest(400, "bad %-escape in URL (not UTF-8)") from None
        except ValueError as e:  # more than MAX_PARAMS fields
            raise BadRequest(400, f"too many query parameters (at most {MAX_PARAMS}): {e}") from None
        try:
            if path == "/api/search":
                return self.api_search(request, params)
            if path == "/api/catalogue":
                return self.api_catalogue(request, params)
            if path == "/api/stats":
                return self.static(request, "/stats/stats.json")
            if path.startswith(("/search/1/", "/search/2/")):
                return self.content_search(request, int(path[8]), path[10:], params)
            return self.static(request, path)
        except GujiError as e:  # no index in this folder
            raise BadRequest(503, str(e)) from None

    # -- search -----------------------------------------------------------------------------------
    @staticmethod
    def q(params: dict[str, list[str]]) -> str:
        q = (params.get("q") or [""])[0]
        if len(q) > MAX_QUERY:
            raise BadRequest(400, f"query longer than {MAX_QUERY} characters")
        return q

    @staticmethod
    def int_param(params: dict[str, list[str]], name: str, default: int, hi: int) -> int:
        try:
            v = int((params.get(name) or [default])[0])
        except ValueError:
            raise BadRequest(400, f"{name} must be a number") from None
        return max(0, min(hi, v))

    def api_search(self, request: Request, params: dict[str, list[str]]) -> Response:
        from guji.publish.index import QueryError

        q = self.q(params)
        try:
            r = self.index().search(q, limit=self.int_param(params, "limit", 20, MAX_LIMIT),
                                    offset=self.int_param(params, "offset", 0, 10**6))
        except QueryError as e:
            raise BadRequest(400, str(e)) from None
        return self.json(request, r)

    def api_catalogue(self, request: Request, params: dict[str, list[str]]) -> Response:
        from guji.publish.catalogue import CatalogueQuery
        from guji.publish.index import QueryError

        try:
            cq = CatalogueQuery.from_params(params, max_query=MAX_QUERY)
            r = self.catalogue().query(cq, self.index() if cq.text else None)
        except (QueryError, ValueError) as e:
            raise BadRequest(400, str(e)) from None
        return self.json(request, r)

    def content_search(self, request: Request, version: int, item_path: str, params: dict[str, list[str]]) -> Response:
        from guji.publish.contentsearch import search1, search2

        item_id = item_path.strip("/")
        if not item_id or "/" in item_id or ".." in item_id:
            raise BadRequest(404, "no such item")
        idx = self.index()
        if idx.item(item_id) is None:
            raise BadRequest(404, "no such item")
        q = self.q(params)
        hits, total = idx.search_item(item_id, q)
        service = uris.content_search_uri(self.base_url or self.here(request), item_id, version)
        doc = (search2 if version == 2 else search1)(hits, service_uri=service, query=q, total=total)
        return self.json(request, doc, ctype="application/ld+json")

    # -- static files -----------------------------------------------------------------------------
    def static(self, request: Request, path: str) -> Response:
        if "\x00" in path or "\\" in path:
            raise BadRequest(400, "bad path")
        segments = [s for s in path.split("/") if s]
        if any(s in ("..", ".") or s.startswith(".") for s in segments):
            raise BadRequest(403, "path not allowed")
        norm = posixpath.normpath("/" + path.lstrip("/"))
        target = (self.root / norm.lstrip("/")).resolve()
        if target != self.root and not target.is_relative_to(self.root):
            raise BadRequest(403, "path not allowed")
        if target.is_dir():
            if not path.endswith("/"):
                raw = (request.scope.get("raw_path") or b"/").decode("ascii")
                return Response(b"", 301, headers={**common_headers(), "Location": raw + "/"})
            target = target / "index.html"
        if not target.is_file():
            raise BadRequest(404, "not found")
        key = target.relative_to(self.root).as_posix()
        ctype = content_type(key)
        headers = {**common_headers(), "Cache-Control": "no-cache"}
        if "json" in ctype:
            rw = self.rewrite_for(request)
            if rw and target.stat().st_size <= MAX_REWRITE_BYTES:
                body = target.read_bytes().replace(rw[0].encode(), rw[1].encode())
                return Response(body if request.method != "HEAD" else b"", 200, media_type=ctype,
                                headers={**headers, "Content-Length": str(len(body))})
        return FileResponse(target, media_type=ctype, headers=headers)


def common_headers() -> dict[str, str]:
    return {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}


def make_app(root: str | Path, base_url: str | None = None, rewrite: bool = True) -> Starlette:
    """The ASGI application serving ``root``."""
    pub = Publication(Path(root), base_url, rewrite)

    def endpoint(request: Request) -> Response:  # sync: Starlette runs it in its thread pool
        try:
            return pub.handle(request)
        except BadRequest as e:
            return JSONResponse({"error": e.message, "status": e.status}, e.status, headers=common_headers())
        except Exception as e:  # noqa: BLE001 - one line in the log, a 500 answer, never a traceback sent
            log.error("%s %s: %s: %s", request.method, request.url.path, type(e).__name__, e)
            return JSONResponse({"error": "internal error", "status": 500}, 500, headers=common_headers())

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])
    app.state.publication = pub
    return app


def _protocol():
    """uvicorn's h11 protocol, with the idle timeout also for a connection that never sends a request."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class IdleTimeoutH11(H11Protocol):
        def connection_made(self, transport):  # type: ignore[override]
            super().connection_made(transport)
            if self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                    self.timeout_keep_alive_handler)

    return IdleTimeoutH11


def make_config(root: str | Path, host: str = "127.0.0.1", port: int = 8000, base_url: str | None = None,
                rewrite: bool = True, limit_concurrency: int = LIMIT_CONCURRENCY, idle_timeout: float = IDLE_TIMEOUT):
    import uvicorn

    return uvicorn.Config(make_app(root, base_url, rewrite), host=host, port=port, http=_protocol(), lifespan="off",
                          limit_concurrency=limit_concurrency, timeout_keep_alive=idle_timeout,
                          h11_max_incomplete_event_size=16 * 1024, access_log=False, log_level="warning",
                          server_header=False)


class BoundServer:
    """uvicorn on a socket bound at creation (so ``server_address`` is known before it serves), with
    the ``serve_forever`` / ``shutdown`` / ``server_close`` of :mod:`socketserver` servers."""

    def __init__(self, config):
        import socket

        import uvicorn

        self.server = uvicorn.Server(config)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((config.host, config.port))
        self.server_address = self.socket.getsockname()
        self._done = threading.Event()

    def serve_forever(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self._done.set()

    def shutdown(self, timeout: float = 10) -> None:
        self.server.should_exit = True
        self._done.wait(timeout)

    def server_close(self) -> None:
        self.socket.close()


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 8000, base_url: str | None = None,
                **kw: Any) -> BoundServer:
    """A server for ``root`` bound to host:port (0: any free port); run it with ``serve_forever()``."""
    return BoundServer(make_config(root, host, port, base_url, **kw))


class RunningServer:
    """A server in a background thread (tests, embedding): ``.port``, ``.url``, ``.stop()``."""

    def __init__(self, bound: BoundServer):
        self.bound = bound
        self.port = bound.server_address[1]
        self.url = f"http://{bound.server_address[0]}:{self.port}/"
        self.thread = threading.Thread(target=bound.serve_forever, daemon=True)

    def start(self, timeout: float = 15) -> "RunningServer":
        import time

        self.thread.start()
        t0 = time.monotonic()
        while not self.bound.server.started:
            if not self.thread.is_alive() or time.monotonic() - t0 > timeout:
                raise RuntimeError("guji serve did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.bound.shutdown()
        self.bound.server_close()

    def __enter__(self) -> "RunningServer":
        return self if self.thread.is_alive() else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_server(root: str | Path, host: str = "127.0.0.1", port: int = 0, base_url: str | None = None,
                 **kw: Any) -> RunningServer:
    return RunningServer(make_server(root, host, port, base_url, **kw)).start()


def serve(root: str | Path, host: str = "127.0.0.1", port: int = 8000, base_url: str | None = None,
          rewrite: bool = True, limit_concurrency: int = LIMIT_CONCURRENCY, idle_timeout: float = IDLE_TIMEOUT) -> None:
    import uvicorn

    cfg = make_config(root, host, port, base_url, rewrite, limit_concurrency, idle_timeout)
    log.warning("serving %s on http://%s:%d/ (Ctrl-C to stop)", os.fspath(root), host, port)
    uvicorn.Server(cfg).run()
