"""The workspace's database: accounts, sessions, login throttling, review rounds, edits, page-text
versions and the audit log. SQLAlchemy Core, one code path for SQLite (default, a file in the first
work folder) and PostgreSQL (``--db postgresql+psycopg://user@host/db``). Every statement is built
with bound parameters; nothing is put together from strings.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROLES = ("reviewer", "cataloguer", "proofreader", "admin")
MIN_PASSWORD = 8  # characters, for the command line and the browser alike
DEFAULT_DB = "workspace.sqlite"

meta = sa.MetaData()

users = sa.Table(
    "ws_users", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(120), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("institution", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created", sa.Float, nullable=False),
)

sessions = sa.Table(
    "ws_sessions", meta,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("ws_users.id"), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False),
)

login_failures = sa.Table(
    "ws_login_failures", meta,
    sa.Column("key", sa.String(400), primary_key=True),  # user name + client address
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False, default=0.0),
)

reviews = sa.Table(  # one row per item: its state in the review rounds
    "ws_reviews", meta,
    sa.Column("item", sa.String(300), primary_key=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("round", sa.Integer, nullable=False, default=1),
    sa.Column("remark", sa.Text, nullable=True),
    sa.Column("updated", sa.Float, nullable=False),
    sa.Column("updated_by", sa.String(120), nullable=False),
)

edits = sa.Table(  # the current corrected value of a census field of an item
    "ws_edits", meta,
    sa.Column("item", sa.String(300), primary_key=True),
    sa.Column("field", sa.String(60), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("who", sa.String(120), nullable=False),
    sa.Column("when", sa.Float, nullable=False),
)

page_versions = sa.Table(  # every saved version of a canvas's corrected lines
    "ws_page_versions", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("canvas", sa.String(400), nullable=False, index=True),
    sa.Column("item", sa.String(300), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("lines", sa.Text, nullable=False),  # JSON {line id: {"text", "machine_text"}}
    sa.Column("changed", sa.Text, nullable=False),  # JSON list of line ids changed in this version
    sa.Column("who", sa.String(120), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("when", sa.Float, nullable=False),
    sa.UniqueConstraint("canvas", "version"),
)

settings = sa.Table(  # the cookie-signing secret, shared by every server process on one database
    "ws_settings", meta,
    sa.Column("key", sa.String(60), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

audit = sa.Table(
    "ws_audit", meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("who", sa.String(120), nullable=False),
    sa.Column("when", sa.Float, nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("object", sa.String(400), nullable=False),
    sa.Column("field", sa.String(120), nullable=True),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("address", sa.String(80), nullable=True),
)


def valid_name(name: str) -> bool:
    """A user name: 1-120 characters, no white space and none of ``/ ? # %`` (it is a URL segment)."""
    return 0 < len(name) <= 120 and not any(ch.isspace() or ch in "/?#%" for ch in name)


def db_url(db: str | None, work: Path) -> str:
    """``--db`` as given (a URL or a file path) or the default SQLite file in the work folder."""
    if db and "://" in db:
        return db
    path = Path(db) if db else Path(work) / DEFAULT_DB
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


class Database:
    def __init__(self, url: str):
        self.url = url
        kw: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kw["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kw["pool_pre_ping"] = True
        self.engine = sa.create_engine(url, **kw)
        if url.startswith("sqlite"):
            @sa.event.listens_for(self.engine, "connect")
            def _wal(conn, _rec):  # noqa: ANN001
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA foreign_keys=ON")
        meta.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def begin(self):
        return self.engine.begin()

    def secret(self) -> str:
        """The cookie-signing secret: made once per database, shared by every server on it."""
        import secrets

        with self.begin() as c:
            row = c.execute(sa.select(settings.c.value).where(settings.c.key == "secret")).first()
            if row:
                return str(row[0])
        value = secrets.token_urlsafe(48)
        try:
            with self.begin() as c:
                c.execute(settings.insert().values(key="secret", value=value))
        except sa.exc.IntegrityError:  # another server made it first
            pass
        with self.begin() as c:
            return str(c.execute(sa.select(settings.c.value).where(settings.c.key == "secret")).scalar_one())

    # -- users ------------------------------------------------------------------------------------
    def add_user(self, name: str, password_hash: str, role: str, institution: str) -> int:
        if not valid_name(name):
            raise ValueError(f"user name {name!r}: not empty, at most 120 characters, no spaces nor / ? # %")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        with self.begin() as c:
            if c.execute(sa.select(users.c.id).where(users.c.name == name)).first():
                raise ValueError(f"user {name!r} exists already")
            r = c.execute(users.insert().values(name=name, password_hash=password_hash, role=role,
                                                institution=institution, active=True, created=time.time()))
            return int(r.inserted_primary_key[0])

    def user(self, *, name: str | None = None, id: int | None = None) -> dict | None:
        q = sa.select(users).where(users.c.name == name if name is not None else users.c.id == id)
        with self.begin() as c:
            row = c.execute(q).mappings().first()
        return dict(row) if row else None

    def set_password_hash(self, user_id: int, h: str) -> None:
        with self.begin() as c:
            c.execute(users.update().where(users.c.id == user_id).values(password_hash=h))

    def set_active(self, user_id: int, active: bool) -> None:
        """Enable or disable an account; disabling ends every session of it at once."""
        with self.begin() as c:
            c.execute(users.update().where(users.c.id == user_id).values(active=active))
            if not active:
                c.execute(sessions.delete().where(sessions.c.user_id == user_id))

    def end_sessions(self, user_id: int, *, keep: str | None = None) -> int:
        """End the sessions of a user (all, or all but ``keep``); how many ended."""
        q = sessions.delete().where(sessions.c.user_id == user_id)
        if keep is not None:
            q = q.where(sessions.c.id != keep)
        with self.begin() as c:
            return int(c.execute(q).rowcount or 0)

    def list_users(self) -> list[dict]:
        with self.begin() as c:
            return [dict(r) for r in c.execute(sa.select(users).order_by(users.c.name)).mappings()]

    # -- sessions ---------------------------------------------------------------------------------
    def new_session(self, sid: str, user_id: int, csrf: str, ttl: float) -> None:
        now = time.time()
        with self.begin() as c:
            c.execute(sessions.delete().where(sessions.c.expires < now))
            c.execute(sessions.insert().values(id=sid, user_id=user_id, csrf=csrf, created=now, expires=now + ttl))

    def session(self, sid: str) -> dict | None:
        with self.begin() as c:
            row = c.execute(sa.select(sessions).where(sessions.c.id == sid, sessions.c.expires > time.time())
                            ).mappings().first()
        return dict(row) if row else None

    def end_session(self, sid: str) -> None:
        with self.begin() as c:
            c.execute(sessions.delete().where(sessions.c.id == sid))

    # -- login throttling -------------------------------------------------------------------------
    def locked_until(self, key: str) -> float:
        with self.begin() as c:
            row = c.execute(sa.select(login_failures.c.locked_until).where(login_failures.c.key == key)).first()
        return float(row[0]) if row else 0.0

    def login_failed(self, key: str, limit: int, window: float, lock: float) -> None:
        now = time.time()
        with self.begin() as c:
            row = c.execute(sa.select(login_failures).where(login_failures.c.key == key)).mappings().first()
            if row is None or now - row["first"] > window:
                c.execute(login_failures.delete().where(login_failures.c.key == key))
                c.execute(login_failures.insert().values(key=key, count=1, first=now, locked_until=0.0))
                return
            n = row["count"] + 1
            c.execute(login_failures.update().where(login_failures.c.key == key).values(
                count=n, locked_until=now + lock if n >= limit else row["locked_until"]))

    def login_ok(self, key: str) -> None:
        with self.begin() as c:
            c.execute(login_failures.delete().where(login_failures.c.key == key))

    # -- review rounds and edits ------------------------------------------------------------------
    def review(self, item: str) -> dict | None:
        with self.begin() as c:
            row = c.execute(sa.select(reviews).where(reviews.c.item == item)).mappings().first()
        return dict(row) if row else None

    def reviews(self) -> dict[str, dict]:
        with self.begin() as c:
            return {r["item"]: dict(r) for r in c.execute(sa.select(reviews)).mappings()}

    def set_review(self, c, item: str, state: str, who: str, remark: str | None, round_: int) -> None:
        c.execute(reviews.delete().where(reviews.c.item == item))
        c.execute(reviews.insert().values(item=item, state=state, round=round_, remark=remark, updated=time.time(),
                                          updated_by=who))

    def edits(self, item: str | None = None) -> dict[str, dict[str, dict]]:
        q = sa.select(edits)
        if item is not None:
            q = q.where(edits.c.item == item)
        out: dict[str, dict[str, dict]] = {}
        with self.begin() as c:
            for r in c.execute(q).mappings():
                out.setdefault(r["item"], {})[r["field"]] = dict(r)
        return out

    def set_edit(self, c, item: str, field: str, value: str, who: str) -> None:
        c.execute(edits.delete().where(edits.c.item == item, edits.c.field == field))
        c.execute(edits.insert().values(item=item, field=field, value=value, who=who, when=time.time()))

    # -- page versions ----------------------------------------------------------------------------
    def page_version(self, canvas: str) -> dict | None:
        with self.begin() as c:
            row = c.execute(sa.select(page_versions).where(page_versions.c.canvas == canvas)
                            .order_by(page_versions.c.version.desc()).limit(1)).mappings().first()
        if not row:
            return None
        d = dict(row)
        d["lines"], d["changed"] = json.loads(d["lines"]), json.loads(d["changed"])
        return d

    def page_history(self, canvas: str) -> list[dict]:
        with self.begin() as c:
            rows = c.execute(sa.select(page_versions).where(page_versions.c.canvas == canvas)
                             .order_by(page_versions.c.version)).mappings().all()
        return [{**dict(r), "lines": json.loads(r["lines"]), "changed": json.loads(r["changed"])} for r in rows]

    def proofread_canvases(self) -> dict[str, int]:
        """canvas → latest version number, for every canvas with a saved version."""
        with self.begin() as c:
            rows = c.execute(sa.select(page_versions.c.canvas, sa.func.max(page_versions.c.version))
                             .group_by(page_versions.c.canvas)).all()
        return {r[0]: int(r[1]) for r in rows}

    def add_page_version(self, c, canvas: str, item: str, lines: dict, changed: list[str], who: str,
                         source: str) -> int:
        cur = c.execute(sa.select(sa.func.max(page_versions.c.version)).where(page_versions.c.canvas == canvas)).scalar()
        v = int(cur or 0) + 1
        c.execute(page_versions.insert().values(canvas=canvas, item=item, version=v,
                                                lines=json.dumps(lines, ensure_ascii=False),
                                                changed=json.dumps(changed, ensure_ascii=False), who=who,
                                                source=source, when=time.time()))
        return v

    # -- audit ------------------------------------------------------------------------------------
    def log(self, c, who: str, action: str, obj: str, field: str | None = None, before: Any = None,
            after: Any = None, address: str | None = None) -> None:
        def s(v: Any) -> str | None:
            return None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

        c.execute(audit.insert().values(who=who, when=time.time(), action=action, object=obj, field=field,
                                        before=s(before), after=s(after), address=address))

    def audit_rows(self, obj: str | None = None, limit: int = 200) -> list[dict]:
        q = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if obj is not None:
            q = q.where(audit.c.object == obj)
        with self.begin() as c:
            return [dict(r) for r in c.execute(q).mappings()]
