"""Build small batch folders in a temp dir for tests (images made with numpy + Pillow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

HEADER = "普查编号,本地编号,题名卷数,文献类型,访问级别\n"


def noise_image(path: Path, seed: int, size=(120, 90), fmt: str | None = None, **save) -> Path:
    rng = np.random.default_rng(seed)
    arr = (rng.random((size[1], size[0], 3)) * 255).astype("uint8")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, fmt, **save)
    return path


def make_batch(root: Path, *, items: dict[str, dict[str, int] | int], rows: list[str] | None = None,
               toml_extra: str = "") -> Path:
    """``items``: item id → number of pages (single volume) or {volume: pages}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "batch.toml").write_text(
        '[batch]\nid = "test-batch"\ninstitution = "测试图书馆"\ninstitution_code = "350000-2001"\n'
        'rights = "http://creativecommons.org/licenses/by/4.0/"\n' + toml_extra, "utf-8")
    seed = 0
    lines = []
    for item, spec in items.items():
        vols = spec if isinstance(spec, dict) else {"": spec}
        for vol, n in vols.items():
            for i in range(1, n + 1):
                seed += 1
                p = root / item / vol / f"{i:04d}.jpg" if vol else root / item / f"{i:04d}.jpg"
                noise_image(p, seed, dpi=(400, 400), quality=90)
        if item[:6].isdigit():
            lines.append(f"{item},,書{seed}卷,古籍,公开")
        else:
            lines.append(f",{item},文件{seed},地方文献,公开")
    (root / "records.csv").write_text(HEADER + "\n".join(rows if rows is not None else lines) + "\n", "utf-8")
    return root
