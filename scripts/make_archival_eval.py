#!/usr/bin/env python3
"""Generate the archival-resolution OCR evaluation set (deterministic, not committed).

    python scripts/make_archival_eval.py                      # → build/archival-eval/ (git-ignored)
    python scripts/make_archival_eval.py --out /tmp/arch --pages 4

The real evaluation pages (../shared/eval/dzj-dev) are reduced 4–10×: their characters are 10–20 px
high. Masters scanned at 400–600 ppi have characters of 40–100 px. This script draws half-leaves
(半葉) of vertical text at that resolution — body characters 44–96 px, double-row small notes
(雙行小注) at ~45 % of the body size, a single-ruled frame with column rules — and degrades them
the way woodblock prints and their scans are degraded: uneven ink (low-frequency density, worn
blocks), broken strokes (ink removed in small patches), bleed-through (the mirrored text of the
other side of the leaf, blurred and faint), blur and JPEG compression. Every page has its own
numpy Generator seeded from its name, so a re-run writes the same bytes.

Layout of the output (as ``../shared/eval/dzj-dev``, so ``bench/bench_ocr.py --data`` reads it):
``images/<page>.jpg``, ``gt_txt/<page>.txt`` (one line per printed column in reading order, a
column's notes right sub-column first, then left), ``json/<page>.json`` (``width``, ``height`` and
``chars`` with ``x, y, w, h, txt, block_no, column_no, char_no`` in image pixels).

Texts (public domain, none of them in the character LM's corpus chinese-poetry, none Buddhist):
孫子兵法 (計篇, 作戰篇), 莊子 (逍遙遊), 老子 (chapters 12 onwards; the demo samples use 1–11).
Fonts: AR PL UMing (fonts-arphic-uming) and Noto Serif CJK (fonts-noto-cjk), as
scripts/install-system.sh installs them. Needs Pillow, numpy, opencv.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "build" / "archival-eval"
FONTS = [(Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 2),  # AR PL UMing TW
         (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"), 2),  # Noto Serif CJK TC
         (Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"), 2)]

TEXTS = [
    "孫子曰兵者國之大事死生之地存亡之道不可不察也故經之以五事校之以計而索其情一曰道二曰天三曰地四曰將五曰法"
    "道者令民與上同意也故可以與之死可以與之生而不畏危天者陰陽寒暑時制也地者遠近險易廣狹死生也將者智信仁勇嚴也"
    "法者曲制官道主用也凡此五者將莫不聞知之者勝不知者不勝故校之以計而索其情曰主孰有道將孰有能天地孰得法令孰行"
    "兵眾孰強士卒孰練賞罰孰明吾以此知勝負矣將聽吾計用之必勝留之將不聽吾計用之必敗去之計利以聽乃為之勢以佐其外",
    "孫子曰凡用兵之法馳車千駟革車千乘帶甲十萬千里饋糧則內外之費賓客之用膠漆之材車甲之奉日費千金然後十萬之師舉矣"
    "其用戰也勝久則鈍兵挫銳攻城則力屈久暴師則國用不足夫鈍兵挫銳屈力殫貨則諸侯乘其弊而起雖有智者不能善其後矣"
    "故兵聞拙速未睹巧之久也夫兵久而國利者未之有也故不盡知用兵之害者則不能盡知用兵之利也",
    "北冥有魚其名為鯤鯤之大不知其幾千里也化而為鳥其名為鵬鵬之背不知其幾千里也怒而飛其翼若垂天之雲是鳥也海運則將徙於南冥"
    "南冥者天池也齊諧者志怪者也諧之言曰鵬之徙於南冥也水擊三千里摶扶搖而上者九萬里去以六月息者也野馬也塵埃也"
    "生物之以息相吹也天之蒼蒼其正色邪其遠而無所至極邪其視下也亦若是則已矣且夫水之積也不厚則其負大舟也無力",
    "五色令人目盲五音令人耳聾五味令人口爽馳騁畋獵令人心發狂難得之貨令人行妨是以聖人為腹不為目故去彼取此"
    "寵辱若驚貴大患若身何謂寵辱若驚寵為下得之若驚失之若驚是謂寵辱若驚何謂貴大患若身吾所以有大患者為吾有身"
    "及吾無身吾有何患故貴以身為天下若可寄天下愛以身為天下若可託天下視之不見名曰夷聽之不聞名曰希搏之不得名曰微",
]
NOTES = [
    "經者常也計者算也五事者道天地將法也",
    "索者求也校者量也情者彼我之情也",
    "馳車輕車也革車重車也千駟四千匹馬也",
    "鯤大魚也鵬大鳥也冥海也",
    "爽差也失也妨傷也",
    "寵者尊榮辱者恥辱也",
]


def seed_of(name: str) -> int:
    return zlib.crc32(("archival-eval/" + name).encode())


def low_freq(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    g = rng.normal(0, 1, (max(2, cells * h // max(w, h) + 2), max(2, cells * w // max(w, h) + 2)))
    return cv2.resize(g.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


_FONT_CACHE: dict[tuple[int, int], ImageFont.FreeTypeFont] = {}


def font(k: int, size: int) -> ImageFont.FreeTypeFont:
    path, index = FONTS[k]
    if not path.exists():
        sys.exit(f"make_archival_eval: font {path} not found (Debian fonts-arphic-uming / fonts-noto-cjk; "
                 "scripts/install-system.sh installs them)")
    if (k, size) not in _FONT_CACHE:
        _FONT_CACHE[(k, size)] = ImageFont.truetype(str(path), size, index=index)
    return _FONT_CACHE[(k, size)]


def glyph_box(d: ImageDraw.ImageDraw, x: float, y: float, ch: str, f: ImageFont.FreeTypeFont) -> list[float]:
    """The drawn glyph's box [x, y, w, h] (its ink extent as the font reports it, not the em square)."""
    x0, y0, x1, y1 = d.textbbox((x, y), ch, font=f)
    return [x0, y0, x1 - x0, y1 - y0]


def layout_columns(text: str, notes: list[str], n_cols: int, n_chars: int, rng: np.random.Generator
                   ) -> list[list[tuple[str, str, str]]]:
    """Columns of segments: ("main", text, "") or ("note", right, left). Each note run is inserted
    after a random main run; a note run takes half cells (two characters per cell)."""
    cols: list[list[tuple[str, str, str]]] = []
    pos = 0
    note_at = {int(c) for c in rng.choice(np.arange(1, n_cols), size=min(len(notes), n_cols - 1), replace=False)}
    notes = list(notes)
    for c in range(n_cols):
        segs: list[tuple[str, str, str]] = []
        room = n_chars
        if c in note_at and notes:
            head = int(rng.integers(3, n_chars // 2))
            note = notes.pop(0)[:2 * (n_chars - head - 1)]
            k = math.ceil(len(note) / 2)  # characters per sub-column, each half a cell high
            segs.append(("main", text[pos:pos + head], ""))
            pos += head
            segs.append(("note", note[:k], note[k:]))
            room = int(n_chars - head - k / 2)
        segs.append(("main", text[pos:pos + room], ""))
        pos += room
        segs = [s for s in segs if s[1] or s[2]]
        if segs:
            cols.append(segs)
        if pos >= len(text):
            break
    return cols


def make_page(name: str, text: str, notes: list[str], size: int, face: int) -> tuple[bytes, str, dict]:
    """One half-leaf: JPEG bytes, truth text, truth record with character boxes."""
    rng = np.random.default_rng(seed_of(name))
    n_cols, n_chars = 8, 18
    col_w = int(round(size * 1.45))
    pitch = size * 1.12
    nsize = int(round(size * 0.46))
    npitch = pitch / 2
    margin_x, margin_y = int(1.6 * size), int(1.8 * size)
    pad_y = int(0.4 * size)
    frame_w, frame_h = n_cols * col_w, int(2 * pad_y + n_chars * pitch)
    W, H = frame_w + 2 * margin_x, frame_h + 2 * margin_y
    fx, fy = margin_x, margin_y
    cols = layout_columns(text, notes, n_cols, n_chars, rng)

    def draw_text(cols_: list, layer: Image.Image, record: list | None) -> list[str]:
        d = ImageDraw.Draw(layer)
        lines = []
        for ci, segs in enumerate(cols_):
            x0 = fx + frame_w - (ci + 1) * col_w  # right to left
            cell = 0.0
            line = []
            for kind, a, b in segs:
                if kind == "main":
                    for ch in a:
                        ex = x0 + (col_w - size) / 2 + rng.normal(0, 0.02 * size)
                        ey = fy + pad_y + cell * pitch + (pitch - size) / 2 + rng.normal(0, 0.02 * size)
                        d.text((ex, ey), ch, font=font(face, size), fill=255)
                        if record is not None:
                            record.append((ch, glyph_box(d, ex, ey, ch, font(face, size)), ci + 1))
                        cell += 1
                    line.append(a)
                else:
                    for sub, sx in ((a, x0 + col_w / 2), (b, x0)):
                        for i, ch in enumerate(sub):
                            ex = sx + (col_w / 2 - nsize) / 2
                            ey = fy + pad_y + cell * pitch + i * npitch + (npitch - nsize) / 2
                            d.text((ex, ey), ch, font=font(face, nsize), fill=255)
                            if record is not None:
                                record.append((ch, glyph_box(d, ex, ey, ch, font(face, nsize)), ci + 1))
                    cell += max(len(a), len(b)) / 2
                    line.append(a + b)
            lines.append("".join(line))
        return lines

    ink = Image.new("L", (W, H), 0)
    d = ImageDraw.Draw(ink)
    lw = max(3, size // 12)
    d.rectangle([fx - lw, fy - lw, fx + frame_w + lw - 1, fy + frame_h + lw - 1], outline=240, width=lw)
    for i in range(1, n_cols):
        xx = fx + i * col_w
        d.line([xx, fy, xx, fy + frame_h], fill=170, width=max(1, size // 40))
    record: list = []
    lines = draw_text(cols, ink, record)
    # the other side of the leaf, seen through the paper (mirrored, different text)
    back = Image.new("L", (W, H), 0)
    other = TEXTS[(TEXTS.index(text) + 1) % len(TEXTS)] if text in TEXTS else TEXTS[0]
    draw_text(layout_columns(other[37:], [], n_cols, n_chars, rng), back, None)
    back_a = cv2.GaussianBlur(np.asarray(back, np.float32)[:, ::-1] / 255.0, (0, 0), 0.06 * size)
    # ink: worn block (low-frequency density), broken strokes (patches without ink), blur
    a = np.asarray(ink, np.float32) / 255.0
    dens = np.clip(0.80 + 0.22 * low_freq(rng, H, W, 30), 0.45, 1.0)
    holes = low_freq(rng, H, W, int(max(W, H) / (0.18 * size)))
    broken = (holes > np.quantile(holes, 0.91)).astype(np.float32)
    broken = cv2.GaussianBlur(broken, (0, 0), 0.03 * size)
    a = a * dens * (1.0 - 0.95 * np.clip(broken * 2, 0, 1))
    a = cv2.GaussianBlur(a, (0, 0), 0.012 * size + 0.3)
    # paper: tone, uneven lighting, fibres; bleed-through under the ink
    tone = np.array(rng.choice([[222, 208, 178], [214, 199, 166], [228, 218, 196]]), np.float32)
    light = 1.0 + 0.05 * low_freq(rng, H, W, 4)
    paper = tone[None, None, :] * light[..., None] + (2.5 * low_freq(rng, H, W, 200))[..., None]
    paper *= (1.0 - rng.uniform(0.10, 0.18) * back_a)[..., None]
    ink_rgb = np.array([30, 26, 24], np.float32)
    img = paper * (1 - a[..., None]) + ink_rgb * a[..., None]
    # scanner: optical blur, noise, JPEG
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.6, 1.4)) * size / 60)
    img += rng.normal(0, 3.0, img.shape).astype(np.float32)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=int(rng.integers(60, 81)), subsampling=2, optimize=False,
                              progressive=False, dpi=(int(size / 48 * 300), int(size / 48 * 300)))
    counters: dict[int, int] = {}
    chars = []
    for ch, (x, y, w, h), col in record:
        counters[col] = counters.get(col, 0) + 1
        chars.append({"txt": ch, "x": round(x), "y": round(y), "w": round(w), "h": round(h),
                      "block_no": 1, "column_no": col, "char_no": counters[col]})
    rec = {"name": name, "width": W, "height": H, "char_px": size, "note_char_px": nsize,
           "font": FONTS[face][0].name, "chars": chars}
    return buf.getvalue(), "\n".join(lines) + "\n", rec


PAGES = [  # name, text, notes, body character px, font
    ("ARC_01", 0, [0, 1], 48, 0),
    ("ARC_02", 1, [2], 64, 1),
    ("ARC_03", 2, [3], 80, 2),
    ("ARC_04", 3, [4, 5], 96, 0),
    ("ARC_05", 0, [], 56, 2),
    ("ARC_06", 2, [5], 72, 1),
]


def generate(out: Path, pages: int | None = None) -> list[str]:
    """Write the set into ``out`` (images/, gt_txt/, json/); returns the page names."""
    for sub in ("images", "gt_txt", "json"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    names = []
    for name, t, ns, size, face in PAGES[:pages]:
        text = TEXTS[t][(size % 7) * 3:]
        jpg, truth, rec = make_page(name, text, [NOTES[n] for n in ns], size, face)
        (out / "images" / f"{name}.jpg").write_bytes(jpg)
        (out / "gt_txt" / f"{name}.txt").write_text(truth, "utf-8")
        (out / "json" / f"{name}.json").write_text(json.dumps(rec, ensure_ascii=False, indent=0) + "\n", "utf-8")
        names.append(name)
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--pages", type=int, default=None, help="only the first N pages")
    args = ap.parse_args(argv)
    names = generate(args.out, args.pages)
    print(f"{len(names)} pages in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
