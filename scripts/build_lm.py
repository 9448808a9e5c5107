"""Build the OCR character language model (a pruned, smoothed character bigram model).

Usage: .venv/bin/python scripts/build_lm.py --src .venv/share/guji-lm/package/dist --out guji/ocr/data/charlm.npz

Source: the npm package chinese-poetry@2.0.1 (MIT licence, © 2016 JackeyGao; chinese-poetry
contributors): Tang and Song poetry, 五代詞, 元曲, 詩經, 楚辭, 論語, 四書五經, 蒙學 texts
(古文觀止, 千字文 …). Installed by scripts/install-lm.sh into a git-ignored folder. Every text
string of the JSON files is taken (the `rank` and `strains` folders hold popularity counts and
tonal patterns, not text, and are skipped), folded to traditional characters with OpenCC s2t
(the collection mixes simplified and traditional files; the pages are traditional), and split
into runs of CJK characters at anything else (punctuation, Latin).

Model: interpolated Kneser-Ney-style bigram over characters seen at least MIN_UNI times:
P(b|a) = max(c(ab) − D, 0)/c(a) + λ(a)·Pcont(b), λ(a) = D·N1+(a·)/c(a), Pcont(b) = N1+(·b)/N1+(··).
Only bigrams seen at least MIN_BI times are stored; others back off to λ(a)·Pcont(b).
Output (numpy .npz): `chars` (the vocabulary as one string), `uni` (log Pcont, float32),
`lam` (log λ, float32), `keys` (sorted a·V+b, int64), `logp` (log P(b|a), float16), `meta` (JSON).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

SKIP_DIRS = {"rank", "strains"}
SKIP_KEYS = {"id", "dynasty", "tags"}
MIN_UNI = 2
MIN_BI = 2
D = 0.75
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")


def strings(obj, key=None):
    if isinstance(obj, str):
        if key not in SKIP_KEYS:
            yield obj
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v, key)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from strings(v, k)


def corpus(src: Path, folded: bool = False) -> list[str]:
    import opencc

    if folded:  # one class per character: t2s, then the printed-variant table of the evaluation
        from guji.textfold import fold_variants

        t2s = opencc.OpenCC("t2s").convert

        def s2t(text: str) -> str:
            return fold_variants(t2s(text))
    else:
        s2t = opencc.OpenCC("s2t").convert
    runs: list[str] = []
    files = sorted(p for p in src.rglob("*.json") if not (set(p.relative_to(src).parts[:-1]) & SKIP_DIRS)
                   and "error" not in p.relative_to(src).parts)
    for p in files:
        try:
            data = json.loads(p.read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        text = "\n".join(strings(data))
        runs += CJK.findall(s2t(text))
    return runs


def build(runs: list[str], folded: bool = False) -> dict[str, np.ndarray]:
    from collections import Counter

    uni = Counter()
    for r in runs:
        uni.update(r)
    chars = sorted(c for c, n in uni.items() if n >= MIN_UNI)
    idx = {c: i + 1 for i, c in enumerate(chars)}  # 0 = unknown / run boundary
    V = len(chars) + 1
    seq = np.fromiter((idx.get(c, 0) for r in runs for c in "\0" + r), dtype=np.int64)
    a, b = seq[:-1], seq[1:]
    ok = b != 0
    keys, counts = np.unique(a[ok] * V + b[ok], return_counts=True)
    ka, kb = keys // V, keys % V
    c_a = np.bincount(ka, weights=counts, minlength=V)
    n1_a = np.bincount(ka, minlength=V).astype(np.float64)
    n1_b = np.bincount(kb, minlength=V).astype(np.float64)
    pcont = (n1_b + 0.5) / (n1_b.sum() + 0.5 * V)
    lam = np.where(c_a > 0, D * n1_a / np.maximum(c_a, 1), 1.0)
    keep = (counts >= MIN_BI) & (ka != 0)
    k, c = keys[keep], counts[keep]
    p = (c - D) / c_a[k // V] + lam[k // V] * pcont[k % V]
    meta = {"source": "npm chinese-poetry@2.0.1 (MIT)",
            "fold": "OpenCC t2s + guji.textfold.VARIANTS" if folded else "OpenCC s2t", "folded": folded, "order": 2, "discount": D,
            "min_unigram": MIN_UNI, "min_bigram": MIN_BI, "characters": int(seq.size), "vocab": V - 1,
            "bigrams_stored": int(k.size)}
    return {"chars": np.array("".join(chars)), "uni": np.log(pcont).astype(np.float32),
            "lam": np.log(lam).astype(np.float32), "keys": k.astype(np.int64),
            "logp": np.log(p).astype(np.float16), "meta": np.array(json.dumps(meta))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--folded", action="store_true",
                    help="fold to one class per character (simplified + variant table) instead of traditional")
    args = ap.parse_args()
    t0 = time.time()
    runs = corpus(args.src, args.folded)
    model = build(runs, args.folded)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **model)
    tmp.replace(args.out)
    meta = json.loads(str(model["meta"]))
    print(f"build_lm: {meta['characters']} characters, vocabulary {meta['vocab']}, {meta['bigrams_stored']} "
          f"bigrams -> {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
