"""``guji workspace``: the staff workspace (serve, user add, export)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from guji.clikit import guarded
from guji.exitcodes import ExitCode

HELP = """\
The staff workspace in the browser: census-record review rounds (submitted → returned →
resubmitted → approved) and OCR proofreading, with accounts, roles and per-library rights.

\b
  guji workspace user add wang --role cataloguer --institution 350000-2001 --work W
  guji workspace serve --work W [--work W2 …] [--db postgresql+psycopg://guji@db/guji]
  guji workspace export --work W      # approved corrections and proofread pages into W

Accounts, sessions, review states, edits and page versions live in the database: a SQLite
file W/workspace.sqlite by default (the first --work), or PostgreSQL for a shared deployment.
See docs/workspace.md.
"""


@click.group("workspace", help=HELP)
def workspace() -> None:
    pass


def _works_option(f):
    return click.option("--work", "-w", "works", multiple=True, required=True,
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Work folder of a batch (repeat for several batches).")(f)


def _db_option(f):
    return click.option("--db", default=None, envvar="GUJI_WORKSPACE_DB",
                        help="Database URL (postgresql+psycopg://user:pw@host/db) or SQLite file "
                             "(default: WORK/workspace.sqlite of the first --work; env GUJI_WORKSPACE_DB).")(f)


def _database(db: str | None, works: tuple[Path, ...]):
    from guji.workspace.db import Database, db_url

    return Database(db_url(db, works[0]))


@workspace.command("serve", help="Serve the workspace over HTTP (put a TLS reverse proxy in front of it; "
                                 "see docs/workspace.md).")
@_works_option
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8010, show_default=True, type=int)
@click.option("--secure-cookies/--no-secure-cookies", default=None,
              help="Mark the session cookie Secure (default: when the request came over HTTPS; set it behind a "
                   "TLS proxy that forwards plain HTTP).")
@guarded
def serve_cmd(works: tuple[Path, ...], db: str | None, host: str, port: int, secure_cookies: bool | None) -> ExitCode:
    import uvicorn

    from guji.workspace.app import make_app

    database = _database(db, works)
    app = make_app(list(works), database, secure_cookies=secure_cookies)
    if not database.list_users():
        click.echo("no accounts yet: add one with `guji workspace user add NAME --role admin --institution CODE "
                   f"--work {works[0]}`", err=True)
    click.echo(f"guji workspace on http://{host}:{port}/ ({len(app.state.workspace.ws.items)} items; Ctrl-C to stop)",
               err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    return ExitCode.OK


@workspace.group("user", help="Accounts of the workspace.")
def user_group() -> None:
    pass


@user_group.command("add", help="Add an account. The password is asked for (twice), or read from the first "
                                "line of standard input with --password-stdin; it is stored only as an argon2 hash.")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["reviewer", "cataloguer", "proofreader", "admin"]),
              help="reviewer: the centre's reviewer (all libraries); cataloguer / proofreader: a library's staff; "
                   "admin: everything.")
@click.option("--institution", required=True,
              help="Institution code (普查单位代码, e.g. 350000-2001) or the 收藏单位 name of the user's library.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_works_option
@_db_option
@guarded
def user_add(name: str, role: str, institution: str, password_stdin: bool, works: tuple[Path, ...],
             db: str | None) -> ExitCode:
    from guji.errors import BadBatch
    from guji.workspace.app import hash_password
    from guji.workspace.db import MIN_PASSWORD

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise BadBatch(f"the password must have at least {MIN_PASSWORD} characters")
    import getpass

    database = _database(db, works)
    try:
        database.add_user(name, hash_password(password), role, institution)
        with database.begin() as c:  # who made the account, from which machine account
            database.log(c, f"cli:{getpass.getuser()}", "user-add", f"user:{name}", "role", None,
                         f"{role} {institution}")
    except ValueError as e:
        raise BadBatch(str(e)) from e
    finally:
        database.close()
    click.echo(f"user {name} ({role}, {institution}) added", err=True)
    return ExitCode.OK


@user_group.command("list", help="List the accounts (no passwords).")
@_works_option
@_db_option
@guarded
def user_list(works: tuple[Path, ...], db: str | None) -> ExitCode:
    database = _database(db, works)
    for u in database.list_users():
        click.echo(f"{u['name']}\t{u['role']}\t{u['institution']}\t{'active' if u['active'] else 'disabled'}")
    database.close()
    return ExitCode.OK


@workspace.command("export", help="Write the approved record corrections (as `guji metadata apply` reads them, "
                                  "then applied to WORK/metadata/corrections.jsonl) and every proofread page "
                                  "(WORK/proofread/) into the work folders; the next `guji run` uses them.")
@_works_option
@_db_option
@guarded
def export_cmd(works: tuple[Path, ...], db: str | None) -> ExitCode:
    from guji.workspace.app import App, export_all

    database = _database(db, works)
    try:
        n = export_all(App(list(works), database), "guji workspace export")
    finally:
        database.close()
    for w in n["works"]:
        click.echo(f"{w['work']}: {w['corrections']} approved corrections → {w['csv']}; "
                   f"{len(w['pages'])} proofread pages → {Path(w['work']) / 'proofread'}", err=True)
    click.echo(f"{n['corrections']} approved corrections, {n['pages']} proofread pages exported", err=True)
    return ExitCode.OK


commands = [workspace]
