"""Stage settings, declared once per stage.

Each stage declares its settings in one :class:`StageSettings` (``SETTINGS`` in
``guji/<stage>/stage.py``): key, default, type, allowed values, the command-line option (if any)
and the help in Chinese and English. Everything else comes from that declaration:

- ``DEFAULTS`` (what :meth:`guji.stage.StageContext.params` merges batch.toml and options over);
- the check of a batch's ``batch.toml`` (:func:`check_config`): an unknown table or key is an error
  naming the nearest valid one (so ``[ocr] engin = …`` is not silently ignored), a value of the
  wrong type or out of range an error naming the key, the value and what is allowed;
- the click options of ``guji <stage>`` (:meth:`StageSettings.click_options`);
- the settings tables of cli.md (``scripts/gen_cli_docs.py``; a test fails when cli.md is stale).

Tables that are not stage settings (``[batch]``) are described by ``schemas/batch.schema.json``.
"""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

# stages whose settings live in batch.toml, with the module declaring them; `package` is a
# separate command but reads its `[package]` table the same way
STAGE_MODULES: dict[str, str] = {
    "ingest": "guji.ingest.stage",
    "clean": "guji.clean.stage",
    "ocr": "guji.ocr.stage",
    "structure": "guji.structure.stage",
    "metadata": "guji.metadata.stage",
    "iiif": "guji.iiif.stage",
    "publish": "guji.publish.stage",
    "package": "guji.package.stage",
}
OTHER_TABLES = ("batch",)
ENGINE_PLUGIN = r"[A-Za-z_][\w.]*:[A-Za-z_]\w*"  # an OCR engine given as module:factory (guji.ocr.engines.get_engine)

_TYPES = ("bool", "int", "float", "str", "ints", "strs")


@dataclass(frozen=True)
class Setting:
    """One setting of a stage: ``[stage] key`` in batch.toml and, when ``option`` is set, a command-line option."""

    key: str
    default: Any
    zh: str  # help, Chinese (shown first)
    en: str  # help, English
    type: str = ""  # bool | int | float | str | ints / strs (lists); "" = the default's type
    choices: tuple[str, ...] = ()  # allowed strings
    number: bool = False  # a number is allowed besides ``choices`` (e.g. "auto" or a factor)
    pattern: str = ""  # strings matching this regex are allowed besides ``choices``
    pattern_doc: str = ""  # ... described in words ("module:factory")
    min: float | None = None
    max: float | None = None
    # command-line option: "--access-quality" (or "--out -o"); a bool: "--dry-run", "--no-split" (sets false) or
    # "--prune/--no-prune"; a list (strs): a repeatable option ("--item")
    option: str | None = None
    nullable: bool = False  # the default None means "not set"; then any value of ``type``

    @property
    def kind(self) -> str:
        if self.type:
            return self.type
        for t, py in (("bool", bool), ("int", int), ("float", float), ("str", str), ("ints", list)):
            if isinstance(self.default, py):
                return t
        return "str"

    def allowed(self, sep: str = " | ") -> str:
        """What the value may be, in words (for messages and cli.md)."""
        if self.choices:
            return sep.join(self.choices) + (f"{sep}a number" if self.number else "") + \
                (f"{sep}{self.pattern_doc}" if self.pattern else "")
        k = {"bool": f"true{sep}false", "int": "an integer", "float": "a number", "str": "a string",
             "ints": "a list of integers", "strs": "a list of strings"}[self.kind]
        if self.min is not None and self.max is not None:
            k += f" {self.min}–{self.max}"
        elif self.min is not None:
            k += f" ≥ {self.min}"
        elif self.max is not None:
            k += f" ≤ {self.max}"
        return k

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if value is None and self.nullable:
            return None
        if self.choices and isinstance(value, str):
            if value in self.choices or (self.pattern and re.fullmatch(self.pattern, value)):
                return None
            return f"{value!r} is not one of {self.allowed()}"
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.choices and not (self.number and is_number):
            return f"{value!r} is not one of {self.allowed()}"
        if self.kind == "strs":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            return None if ok else f"{value!r} is not {self.allowed()}"
        if self.kind == "ints":
            if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                return f"{value!r} is not {self.allowed()}"
            out = [v for v in value if (self.min is not None and v < self.min) or (self.max is not None and v > self.max)]
            return f"{out[0]!r} is out of range ({self.allowed()})" if out else None
        k = "float" if self.number else self.kind
        ok = {"bool": isinstance(value, bool), "int": isinstance(value, int) and not isinstance(value, bool),
              "float": is_number, "str": isinstance(value, str)}[k]
        if not ok:
            return f"{value!r} is not {self.allowed()}"
        if is_number and ((self.min is not None and value < self.min) or (self.max is not None and value > self.max)):
            return f"{value!r} is out of range ({self.allowed()})"
        return None

    def click_option(self) -> Callable:
        """The click option (value None when not given, so batch.toml's value stays in force)."""
        import click

        help_ = f"{self.zh} / {self.en} (default {_show(self.default)}; batch.toml key `{self.key}`)."
        decls = (self.option or "").split()
        if self.kind == "strs":
            return click.option(*decls, self.key, multiple=True, default=None, help=help_,
                                callback=lambda c, p, v: list(v) or None)
        if self.kind == "bool" and "/" in self.option:
            return click.option(self.option, self.key, default=None, help=help_)
        if self.kind == "bool":
            if self.option and self.option.startswith("--no-"):
                help_ = f"關閉：{self.zh} / turn off: {self.en} (batch.toml `{self.key} = false`)."
                return click.option(self.option, self.key, flag_value=False, default=None, help=help_)
            return click.option(self.option, self.key, flag_value=True, default=None, help=help_)
        if self.choices and not (self.number or self.pattern):
            t: Any = click.Choice(list(self.choices))
        elif self.choices or self.kind == "str":  # checked like the batch.toml value (a number converted)
            return click.option(*decls, self.key, type=str, default=None, help=help_, callback=self._cli_value)
        elif self.kind == "int":
            t = click.IntRange(None if self.min is None else int(self.min), None if self.max is None else int(self.max))
        else:
            t = click.FloatRange(self.min, self.max)
        return click.option(*decls, self.key, type=t, default=None, help=help_)


    def _cli_value(self, ctx: Any, param: Any, value: Any) -> Any:  # noqa: ARG002 - click's callback signature
        import click

        if value is None:
            return None
        if self.number and value not in self.choices:
            try:
                value = float(value)
            except ValueError:
                pass
        why = self.check(value)
        if why:
            raise click.BadParameter(why)
        return value


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    return str(v)


@dataclass(frozen=True)
class StageSettings:
    """The settings of one stage (``[stage]`` in batch.toml) and the sub-tables it reads (``[clean.qc]``)."""

    stage: str
    settings: tuple[Setting, ...]
    tables: tuple[str, ...] = ()  # sub-tables, checked by the stage itself

    def __post_init__(self) -> None:
        keys = [s.key for s in self.settings]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise ValueError(f"[{self.stage}] settings declared twice: {sorted(dup)}")
        for s in self.settings:
            if s.kind not in _TYPES:
                raise ValueError(f"[{self.stage}] {s.key}: unknown type {s.kind!r}")
            if not s.nullable and s.check(s.default):
                raise ValueError(f"[{self.stage}] {s.key}: default {s.check(s.default)}")

    def defaults(self) -> dict[str, Any]:
        return {s.key: s.default for s in self.settings}

    def get(self, key: str) -> Setting | None:
        return next((s for s in self.settings if s.key == key), None)

    def click_options(self) -> list[Callable]:
        return [s.click_option() for s in self.settings if s.option]

    def keys(self) -> list[str]:
        """Keys the ``[stage]`` table may hold: its settings, its sub-tables and the page-worker settings
        every page stage takes (``page_timeout``, ``page_tries``: guji.stage.WORKER_SETTINGS)."""
        from guji.stage import WORKER_SETTINGS

        return sorted({s.key for s in self.settings} | set(self.tables) | set(WORKER_SETTINGS))

    def check(self, table: Mapping[str, Any]) -> list[str]:
        """Messages for unknown keys and wrong values of a ``[stage]`` table (empty when all is well)."""
        keys = self.keys()
        msgs = []
        for key, value in table.items():
            s = self.get(key)
            if s is None:
                if key not in keys:
                    msgs.append(f"[{self.stage}] {key}: unknown setting{_nearest(key, keys)}")
                continue
            why = s.check(value)
            if why:
                msgs.append(f"[{self.stage}] {key}: {why}")
        return msgs

    def markdown(self) -> str:
        """The settings table of cli.md."""
        rows = [f"| option | batch.toml `[{self.stage}]` key | default | allowed | 說明 / meaning |", "|---|---|---|---|---|"]
        for s in self.settings:
            opt = f"`{s.option}`" if s.option else "—"
            rows.append(f"| {opt.replace(' ', '`, `')} | `{s.key}` | `{_show(s.default)}` | {s.allowed(', ')} | "
                        f"{s.zh} / {s.en} |")
        return "\n".join(rows)


def declared(stage: str) -> StageSettings:
    """The typed declaration of ``stage`` (``SETTINGS`` of its module; every stage has one)."""
    return importlib.import_module(STAGE_MODULES[stage]).SETTINGS


def defaults(stage: str) -> dict[str, Any]:
    """The declared settings of ``stage`` and their defaults."""
    return declared(stage).defaults()


def valid_keys(stage: str) -> list[str]:
    """Keys a ``[stage]`` table may hold (:meth:`StageSettings.keys`)."""
    return declared(stage).keys()


def _nearest(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f"; did you mean '{near[0]}'?" if near else f"; valid: {', '.join(choices)}"


def check_config(config: Mapping[str, Any]) -> list[str]:
    """Messages for every table, key or value of ``config`` (batch.toml) no stage accepts (empty when all is well)."""
    msgs: list[str] = []
    tables = list(STAGE_MODULES) + list(OTHER_TABLES)
    for table, value in config.items():
        if table in OTHER_TABLES:
            continue
        if table not in STAGE_MODULES:
            msgs.append(f"[{table}]: unknown table{_nearest(table, tables)}")
            continue
        if not isinstance(value, Mapping):
            msgs.append(f"{table}: must be a table ([{table}])")
            continue
        msgs += declared(table).check(value)
    return msgs


# the S3 connection settings publish and package share (both write through guji.publish.storage)
S3_SETTINGS = (
    Setting("endpoint_url", None, "S3 端點（MinIO、Ceph、OSS、COS …；默認 AWS）", "S3 endpoint of MinIO, Ceph, OSS, COS ... (default AWS)",
            type="str", nullable=True, option="--endpoint-url"),
    Setting("region", None, "S3 區域", "S3 region", type="str", nullable=True, option="--region"),
    Setting("addressing_style", None, "S3 尋址方式（自建服務多用 path）", "S3 addressing style (path for most self-hosted servers)",
            type="str", choices=("auto", "path", "virtual"), nullable=True, option="--addressing-style"),
)
