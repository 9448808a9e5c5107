"""The work directory's state store (SQLite): what made every output, so stages can resume.

One row per (stage, key) — a key is usually a page or canvas id — records the *fingerprint*
(SHA-256 over the input hashes, the parameters and the tool versions), the outputs it wrote
(paths relative to WORK with their SHA-256) and the status. A stage skips a key when the stored
fingerprint equals the new one and every recorded output still exists with its recorded hash;
anything else (changed input, changed parameter, new tool version, deleted or damaged output,
``--force``) redoes it.

Crash safety: outputs are written atomically first, then recorded in one transaction. A kill
between the two only means the key is redone on the next run (outputs are deterministic, so the
result is the same). SQLite runs in WAL mode with synchronous=NORMAL; only the main process
writes (workers return their results to it).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from guji.fsutil import canonical_json, sha256_bytes, sha256_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    stage TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,            -- ok | failed | quarantined (see guji.stage.run_tasks)
    inputs TEXT NOT NULL,            -- JSON {name: sha256}
    params TEXT NOT NULL,            -- JSON
    tools TEXT NOT NULL,             -- JSON {tool: version}
    outputs TEXT NOT NULL,           -- JSON {path relative to WORK: sha256}
    info TEXT NOT NULL DEFAULT '{}', -- JSON, stage-specific small results (angles, counts ...)
    message TEXT,
    updated REAL NOT NULL,
    PRIMARY KEY (stage, key)
);
CREATE TABLE IF NOT EXISTS masters (
    page_id TEXT PRIMARY KEY,
    path TEXT NOT NULL,              -- relative to the batch folder
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    recorded REAL NOT NULL
);
-- the fixity ledger, one row per master file (page ids are positions and shift when pages are
-- withdrawn or added; a file keeps its path). ``masters`` above is the old page-keyed ledger,
-- copied in once by StateStore.__init__.
CREATE TABLE IF NOT EXISTS fixity (
    path TEXT PRIMARY KEY,           -- relative to the batch folder
    page_id TEXT NOT NULL,           -- page id when first recorded
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    recorded REAL NOT NULL
);
-- provenance events that are not stage records (fixity checks, publication ...): append-only, one
-- row per event, read by the PREMIS export (guji.package.provenance). Added with the preservation
-- packages; older work folders simply get the empty table.
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,              -- PREMIS event type: "fixity check", "publication" ...
    scope TEXT NOT NULL,             -- what it concerned: masters | work | published <target> | bag <path>
    date REAL NOT NULL,
    agent TEXT NOT NULL,             -- JSON {name: version} of the software that did it
    params TEXT NOT NULL,            -- JSON
    outcome TEXT NOT NULL,           -- success | failure
    detail TEXT NOT NULL             -- JSON: counts, and per item the files that failed
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    started REAL NOT NULL,
    finished REAL,
    exit_code INTEGER
);
"""


def fingerprint(inputs: Mapping[str, str], params: Mapping[str, Any], tools: Mapping[str, str]) -> str:
    """SHA-256 over the canonical JSON of what determines an output."""
    return sha256_bytes(canonical_json({"inputs": inputs, "params": params, "tools": tools}).encode())


@dataclass
class Record:
    stage: str
    key: str
    fingerprint: str
    status: str
    inputs: dict[str, str]
    params: dict[str, Any]
    tools: dict[str, str]
    outputs: dict[str, str]
    info: dict[str, Any]
    message: str | None
    updated: float


class StateStore:
    """SQLite-backed ledger in ``WORK/state.sqlite``. Use from the main process only."""

    FILENAME = "state.sqlite"

    def __init__(self, work: str | Path):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.path = self.work / self.FILENAME
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        if self.db.execute("SELECT 1 FROM fixity LIMIT 1").fetchone() is None:
            self.db.execute("INSERT OR IGNORE INTO fixity(path, page_id, sha256, size, recorded) "
                            "SELECT path, page_id, sha256, size, recorded FROM masters")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- stage records ----------------------------------------------------------------------
    def get(self, stage: str, key: str) -> Record | None:
        row = self.db.execute(
            "SELECT stage,key,fingerprint,status,inputs,params,tools,outputs,info,message,updated "
            "FROM records WHERE stage=? AND key=?",
            (stage, key),
        ).fetchone()
        if row is None:
            return None
        return Record(
            row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), json.loads(row[6]),
            json.loads(row[7]), json.loads(row[8]), row[9], row[10],
        )

    def records(self, stage: str) -> list[Record]:
        keys = [r[0] for r in self.db.execute("SELECT key FROM records WHERE stage=? ORDER BY key", (stage,))]
        return [r for k in keys if (r := self.get(stage, k)) is not None]

    def is_current(self, stage: str, key: str, fp: str, *, check_hashes: bool = True) -> bool:
        """True when ``key`` was done OK with fingerprint ``fp`` and its outputs are intact."""
        rec = self.get(stage, key)
        if rec is None or rec.status != "ok" or rec.fingerprint != fp:
            return False
        return self.outputs_intact(rec, check_hashes=check_hashes)

    def outputs_intact(self, rec: Record, *, check_hashes: bool = True) -> bool:
        for rel, digest in rec.outputs.items():
            p = self.work / rel
            if not p.is_file():
                return False
            if check_hashes and digest and sha256_file(p) != digest:
                return False
        return True

    def record(
        self,
        stage: str,
        key: str,
        *,
        fingerprint: str,
        status: str = "ok",
        inputs: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        tools: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        info: Mapping[str, Any] | None = None,
        message: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO records(stage,key,fingerprint,status,inputs,params,tools,outputs,info,message,updated)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                stage, key, fingerprint, status,
                canonical_json(dict(inputs or {})), canonical_json(dict(params or {})),
                canonical_json(dict(tools or {})), canonical_json(dict(outputs or {})),
                canonical_json(dict(info or {})), message, time.time(),
            ),
        )

    def forget(self, stage: str, key: str | None = None) -> None:
        if key is None:
            self.db.execute("DELETE FROM records WHERE stage=?", (stage,))
        else:
            self.db.execute("DELETE FROM records WHERE stage=? AND key=?", (stage, key))

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for stage, status, n in self.db.execute("SELECT stage, status, COUNT(*) FROM records GROUP BY stage, status"):
            out.setdefault(stage, {})[status] = n
        return out

    # -- fixity ledger ------------------------------------------------------------------------
    def record_masters(self, rows: Iterable[tuple[str, str, str, int]]) -> None:
        """Record (page_id, path, sha256, size) for masters; per file (path) the first hash recorded is kept."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            for page_id, path, digest, size in rows:
                self.db.execute(
                    "INSERT INTO fixity(path,page_id,sha256,size,recorded) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(path) DO NOTHING",
                    (path, page_id, digest, size, now),
                )

    def masters(self) -> list[tuple[str, str, str, int]]:
        """(page_id when first recorded, path, sha256, size) of every master in the fixity ledger."""
        return list(self.db.execute("SELECT page_id, path, sha256, size FROM fixity ORDER BY path"))

    def all_records(self) -> list[Record]:
        """Every stage record, ordered by stage then key (read-only view for provenance export)."""
        stages = [r[0] for r in self.db.execute("SELECT DISTINCT stage FROM records ORDER BY stage")]
        return [rec for st in stages for rec in self.records(st)]

    def stages(self) -> list[str]:
        """Names of the stages that have records in this work folder."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT stage FROM records ORDER BY stage")]

    def master_entry(self, path: str) -> tuple[str, str, int, float] | None:
        """(page id, sha256, size, recorded time) of one master in the fixity ledger, by batch-relative path."""
        row = self.db.execute("SELECT page_id, sha256, size, recorded FROM fixity WHERE path=?", (path,)).fetchone()
        return (row[0], row[1], int(row[2]), float(row[3])) if row else None

    # -- provenance events ---------------------------------------------------------------------
    def record_event(self, type: str, scope: str, *, agent: Mapping[str, str], outcome: str,
                     params: Mapping[str, Any] | None = None, detail: Mapping[str, Any] | None = None,
                     date: float | None = None) -> int:
        """Append one event (e.g. a fixity check) to the provenance log; returns its id."""
        cur = self.db.execute(
            "INSERT INTO events(type, scope, date, agent, params, outcome, detail) VALUES (?,?,?,?,?,?,?)",
            (type, scope, time.time() if date is None else date, canonical_json(dict(agent)),
             canonical_json(dict(params or {})), outcome, canonical_json(dict(detail or {}))))
        return int(cur.lastrowid)

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Recorded events, oldest first: dicts with id, type, scope, date, agent, params, outcome, detail."""
        sql = "SELECT id, type, scope, date, agent, params, outcome, detail FROM events"
        rows = self.db.execute(sql + (" WHERE type=? ORDER BY id" if type else " ORDER BY id"),
                               (type,) if type else ())
        return [{"id": r[0], "type": r[1], "scope": r[2], "date": r[3], "agent": json.loads(r[4]),
                 "params": json.loads(r[5]), "outcome": r[6], "detail": json.loads(r[7])} for r in rows]

    def runs(self) -> list[dict[str, Any]]:
        """The command history: id, command, started, finished, exit_code."""
        return [{"id": r[0], "command": r[1], "started": r[2], "finished": r[3], "exit_code": r[4]}
                for r in self.db.execute("SELECT id, command, started, finished, exit_code FROM runs ORDER BY id")]

    # -- runs ---------------------------------------------------------------------------------
    def start_run(self, command: str) -> int:
        cur = self.db.execute("INSERT INTO runs(command, started) VALUES (?, ?)", (command, time.time()))
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, exit_code: int) -> None:
        self.db.execute("UPDATE runs SET finished=?, exit_code=? WHERE id=?", (time.time(), exit_code, run_id))

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
