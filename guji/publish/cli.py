"""Command-line entry points: ``guji publish`` (+ ``publish cors``), ``guji search``, ``guji serve``, ``guji stats``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from guji.clikit import guarded, stage_command
from guji.exitcodes import ExitCode
from guji.publish.stage import SETTINGS

PUBLISH_HELP = """\
Publish WORK/build to a folder (--out, the default) or S3-compatible storage (--target),
with the search index, a catalogue page (index.html) and statistics.

Only changed files are uploaded (size + SHA-256); every upload is verified; tiles,
annotations and MODS go first, then manifests (only when all they point to is there),
then collections and the index. Restricted items are never published. S3 credentials
come from the standard boto3 chain / environment (AWS_ACCESS_KEY_ID ...), never options.

\b
Examples:
  guji publish --work work --out out
  guji publish --work work --target s3://books/pub --endpoint-url http://127.0.0.1:9000 --dry-run
  guji publish cors --target s3://books --endpoint-url http://127.0.0.1:9000 --origin '*'
"""

_stage = stage_command(
    "publish", "guji.publish.stage:run", help=PUBLISH_HELP,
    options=SETTINGS.click_options())


def _publish_callback(**kw: Any) -> None:
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is None:
        _stage.callback(**kw)  # type: ignore[misc]


publish = click.Group("publish", params=_stage.params, callback=_publish_callback, invoke_without_command=True,
                      help=PUBLISH_HELP)


@publish.command("cors", help="""\
Set (or show) the bucket's CORS rules so IIIF viewers on other origins can load manifests,
tiles and the index (GET/HEAD from the given origins).

\b
Example:
  guji publish cors --target s3://books --endpoint-url http://127.0.0.1:9000 --origin https://viewer.example.org
""")
@click.option("--target", required=True, help="s3://bucket[/prefix]")
@click.option("--endpoint-url", default=None)
@click.option("--region", default=None)
@click.option("--addressing-style", type=click.Choice(["auto", "path", "virtual"]), default=None)
@click.option("--origin", "origins", multiple=True, default=["*"], show_default=True, help="Allowed origin (repeat).")
@click.option("--show", is_flag=True, help="Only print the current rules.")
@guarded
def cors_cmd(target: str, endpoint_url: str | None, region: str | None, addressing_style: str | None,
             origins: tuple[str, ...], show: bool) -> ExitCode:
    from guji.publish.storage import S3Storage

    st = S3Storage(target, endpoint_url=endpoint_url or os.environ.get("GUJI_S3_ENDPOINT_URL"), region=region,
                   addressing_style=addressing_style or "auto")
    rules = st.get_cors() if show else st.set_cors(list(origins))
    click.echo(json.dumps(rules, ensure_ascii=False, indent=2))
    return ExitCode.OK


def _index_path(out: Path | None, work: Path | None) -> Path:
    from guji.iiif import uris

    if out is not None:
        return out / uris.search_index_path()
    return Path(work or "guji-work") / "publish" / "site" / uris.search_index_path()


def _unsure(m: dict[str, Any]) -> str:
    """' (uncertain: read as X, p=0.12)' for a match found through the OCR's candidates."""
    if not m.get("uncertain"):
        return ""
    return f"  (uncertain: read as {m.get('reading', '')}, p={m.get('probability', 0):.2f})"


@click.command("search", help="""\
Search a publication's index: full text (any length, 1 and 2 characters too) and metadata,
traditional/simplified folded (万历 finds 萬曆).

\b
Query: words (all must match), "quoted phrases", fields title: author: edition: census:
class: institution: dynasty: type:, year:1573-1620, item:ID, centre: (版心 text).
Hits through the OCR's other candidates are marked uncertain.
Examples:
  guji search --out out 万历
  guji search --out out 'title:金华 year:1573-1620' --json
""")
@click.argument("query", nargs=-1, required=True)
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Published folder (default: the index in --work).")
@click.option("--work", "-w", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--item", default=None, help="IIIF Content Search in one item: every match with its canvas box.")
@click.option("--json", "json_out", is_flag=True, help="Print the JSON answer.")
@guarded
def search_cmd(query: tuple[str, ...], out: Path | None, work: Path | None, limit: int, item: str | None,
               json_out: bool) -> ExitCode:
    from guji.errors import GujiError
    from guji.publish.index import QueryError, SearchIndex

    q = " ".join(query)
    with SearchIndex(_index_path(out, work)) as idx:
        try:
            if item:
                hits, total = idx.search_item(item, q)
                r: dict[str, Any] = {"item": item, "query": q, "total": total, "hits": hits}
            else:
                r = idx.search(q, limit=limit)
        except QueryError as e:
            raise GujiError(str(e), ExitCode.USAGE) from None
    if json_out:
        click.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return ExitCode.OK
    if item:
        click.echo(f"{r['total']} matches of {q!r} in {item}")
        for h in r["hits"]:
            click.echo(f"  {h['canvas_id']}  …{h['prefix']}[{h['exact']}]{h['suffix']}…  xywh={h['boxes']}{_unsure(h)}")
        return ExitCode.OK
    more = "" if r["counts_exact"] else "+"
    click.echo(f"{r['total_items']} books, {r['total_page_hits']}{more} pages match {q!r}")
    for it in r["items"]:
        click.echo(f"\n{it['item_id']}  {it['title']}  {it['author']}  {it['edition']}  ({it['page_hits']} pages)")
        for p in it["pages_found"]:
            for m in p["matches"][:2]:
                click.echo(f"    {p['label'] or p['canvas_id']}: …{m['prefix']}[{m['exact']}]{m['suffix']}…{_unsure(m)}")
    return ExitCode.OK


@click.command("serve", help="""\
Serve a published folder (or a local build) over HTTP (Starlette + uvicorn): static files with
CORS, the catalogue and reading room, /api/catalogue, /api/search?q=, /api/stats and IIIF
Content Search at /search/2/ITEM?q= (and the 1.0 form at /search/1/ITEM?q=). Listens on
127.0.0.1 unless told otherwise.

When reached at an address other than the base URL the publication was built for, ids in the
IIIF documents and answers are rewritten to that address (said once in the log), so a build for
https://books.example.org/ can be browsed locally; --no-rewrite turns that off.

\b
Example:
  guji serve out            # then open http://127.0.0.1:8000/
  guji serve out --port 8011
""")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--base-url", default=None, help="Base URL the publication's ids use (default: from its index).")
@click.option("--rewrite/--no-rewrite", default=True, show_default=True,
              help="Rewrite ids to the address a request came to when it differs from the base URL.")
@click.option("--limit-concurrency", type=click.IntRange(1, 10000), default=64, show_default=True,
              help="Connections + running requests at once; beyond that the answer is 503.")
@click.option("--idle-timeout", type=click.FloatRange(0.1, 3600), default=5, show_default=True,
              help="Seconds before an idle connection (or one that sends nothing) is closed.")
@guarded
def serve_cmd(folder: Path, host: str, port: int, base_url: str | None, rewrite: bool, limit_concurrency: int,
              idle_timeout: float) -> ExitCode:
    from guji.progress import setup_logging
    from guji.publish.server import serve

    setup_logging(0, False)
    serve(folder, host, port, base_url=base_url, rewrite=rewrite, limit_concurrency=limit_concurrency,
          idle_timeout=idle_timeout)
    return ExitCode.OK


@click.command("stats", help="""\
Statistics of a publication: books, volumes, pages and characters by institution, dynasty,
edition type and classification (经史子集丛), and books by grade (restricted: counts only).

\b
Examples:
  guji stats --out out
  guji stats --work work --format csv > stats.csv
  guji stats --out out --format svg > stats.svg
""")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Published folder (default: the index in --work).")
@click.option("--work", "-w", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "svg"]), default="table", show_default=True)
@click.option("--json", "json_out", is_flag=True, help="Same as --format json.")
@guarded
def stats_cmd(out: Path | None, work: Path | None, fmt: str, json_out: bool) -> ExitCode:
    from guji.publish import stats as st
    from guji.publish.index import SearchIndex

    with SearchIndex(_index_path(out, work)) as idx:
        s = st.compute(idx.items_rows(), idx.grade_counts())
    fmt = "json" if json_out else fmt
    text = {"json": lambda: json.dumps(s, ensure_ascii=False, indent=2) + "\n", "csv": lambda: st.to_csv(s),
            "svg": lambda: st.to_svg(s), "table": lambda: st.to_table(s)}[fmt]()
    click.echo(text, nl=False)
    return ExitCode.OK


commands = [publish, search_cmd, serve_cmd, stats_cmd]
