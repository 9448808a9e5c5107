"""Write the settings tables of cli.md from the stages' declarations (guji/settings.py).

    python scripts/gen_cli_docs.py          # rewrite cli.md in place
    python scripts/gen_cli_docs.py --check  # exit 1 when cli.md is stale (tests/test_settings.py runs this)

Each table sits between ``<!-- settings:STAGE -->`` and ``<!-- /settings:STAGE -->`` in cli.md; the
text around the markers is left as it is.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from guji.settings import STAGE_MODULES, declared  # noqa: E402

BLOCK = re.compile(r"(<!-- settings:(?P<stage>[a-z]+) -->\n).*?(<!-- /settings:(?P=stage) -->)", re.S)


def render(text: str) -> str:
    """cli.md with every settings block regenerated (a block for an unknown stage is an error)."""

    def one(m: re.Match) -> str:
        stage = m.group("stage")
        if stage not in STAGE_MODULES:
            raise SystemExit(f"cli.md: settings block for unknown stage {stage!r}")
        return m.group(1) + declared(stage).markdown() + "\n" + m.group(3)

    return BLOCK.sub(one, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when cli.md is stale")
    ap.add_argument("--file", type=Path, default=REPO / "cli.md")
    a = ap.parse_args()
    old = a.file.read_text("utf-8")
    new = render(old)
    if a.check:
        if new != old:
            print(f"{a.file} is stale: run python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    if new != old:
        a.file.write_text(new, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
