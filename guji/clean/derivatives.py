"""Reading masters (any mode, ICC to sRGB), tone normalisation for OCR, and derivative writing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np


def load_master(path: str | Path) -> tuple[np.ndarray, list[str], list[str]]:
    """Decode a master to uint8 RGB (H×W×3) or greyscale (H×W), converted to sRGB when it embeds
    an ICC profile. Returns (pixels, qc flags about the source, notes)."""
    from PIL import Image, ImageCms

    flags: list[str] = []
    notes: list[str] = []
    with Image.open(path) as im:
        im.load()
        mode = im.mode
        icc = im.info.get("icc_profile")
        if mode == "1":
            flags.append("1-bit")
            im = im.convert("L")
        elif mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
            flags.append("16-bit" if mode.startswith("I;16") else "32-bit-integer")
            a = np.asarray(im)
            a = (a.astype(np.uint32) >> 8) if mode.startswith("I;16") else np.clip(a, 0, 65535).astype(np.uint32) >> 8
            return np.ascontiguousarray(a.astype(np.uint8)), flags, ["16-bit samples reduced to 8 bits"]
        elif mode == "F":
            a = np.asarray(im, dtype=np.float64)
            lo, hi = float(a.min()), float(a.max())
            a = (a - lo) / (hi - lo or 1) * 255
            return np.ascontiguousarray(a.astype(np.uint8)), ["float-samples"], []
        elif mode == "CMYK":
            flags.append("cmyk")
        if mode in ("P", "PA", "LA", "RGBA", "La"):
            rgba = im.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(bg, rgba).convert("RGB")
            icc = None if mode in ("P", "PA") else icc
        if icc:
            try:
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                dst = ImageCms.createProfile("sRGB")
                out_mode = "RGB" if im.mode in ("RGB", "CMYK") else "L"
                if im.mode == "L" and out_mode == "L":
                    # grey profile → sRGB grey via an RGB round trip keeps the tone curve right
                    im = ImageCms.profileToProfile(im, src, dst, outputMode="RGB").convert("L")
                else:
                    im = ImageCms.profileToProfile(im, src, dst, outputMode=out_mode)
                notes.append("converted from the embedded ICC profile to sRGB")
            except Exception as e:  # noqa: BLE001 - a broken profile must not stop the page
                flags.append("icc-unusable")
                notes.append(f"embedded ICC profile not usable ({e}); pixels taken as sRGB")
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        arr = np.asarray(im)
    return np.ascontiguousarray(arr), flags, notes


def to_gray(img: np.ndarray) -> np.ndarray:
    import cv2

    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def normalise_tone(gray: np.ndarray, char_px: float | None = None) -> np.ndarray:
    """Flatten the paper tone and uneven lighting: divide by a background estimate, stretch.

    The background is a grey closing (removes dark text) on a reduced copy, with a kernel a few
    characters wide, then blurred and enlarged back. Paper goes to near-white, ink keeps its shape.
    """
    import cv2

    h, w = gray.shape
    f = max(1, int(min(h, w) / 400))
    small = cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1 else gray
    k = int((2.5 * char_px / f) if char_px else max(15, min(small.shape) / 25)) | 1
    k = max(5, min(k, 61, (min(small.shape) // 4) | 1))
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))  # rectangular: separable, fast
    bg = cv2.blur(cv2.blur(bg, (k, k)), (k, k))  # two box passes ≈ Gaussian, O(1) per pixel
    if f > 1:
        bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    norm = cv2.divide(gray, np.maximum(bg, 1), scale=255)
    lo = _percentile_u8(norm[:: max(1, h // 500), :: max(1, w // 500)], 0.5)
    if lo < 200:
        lut = np.clip((np.arange(256) - lo) * 255.0 / (250 - lo), 0, 255).astype(np.uint8)
        norm = cv2.LUT(norm, lut)
    return norm


def _percentile_u8(a: np.ndarray, q: float) -> float:
    """``np.percentile`` (linear) of uint8 samples, from their histogram."""
    import cv2

    c = np.cumsum(cv2.calcHist([np.ascontiguousarray(a)], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    n = int(c[-1])
    pos = q / 100 * (n - 1)
    k = int(pos)
    v0 = float(np.searchsorted(c, k, side="right"))
    v1 = float(np.searchsorted(c, min(k + 1, n - 1), side="right"))
    return v0 + (pos - k) * (v1 - v0)


def binarise(norm: np.ndarray) -> np.ndarray:
    import cv2

    _, b = cv2.threshold(norm, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return b


def encode_jpeg(img: np.ndarray, quality: int) -> bytes:
    """Baseline JPEG at ``quality`` (standard Huffman tables: the optimised-table pass took 2.5× the
    encode time for about 3 % smaller files; the pixels are the same)."""
    import cv2

    bgr = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


# PNG (lossless) for the OCR image: the "up" filter with Huffman-only deflate. Measured on the
# demo pages' OCR images against zlib level 1 with adaptive filters: 2.4× faster and about 4 %
# smaller (RLE or Paeth are smaller still but slower; level 0 is as slow and twice the size).
PNG_PARAMS = ("IMWRITE_PNG_FILTER", "IMWRITE_PNG_FILTER_UP", "IMWRITE_PNG_STRATEGY", "IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY")


def encode_png(img: np.ndarray) -> bytes:
    import cv2

    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    if hasattr(cv2, PNG_PARAMS[0]):
        params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP,
                   cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY]
    ok, buf = cv2.imencode(".png", img, params)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def phash(gray: np.ndarray, bits_side: int = 16) -> str:
    """Perceptual hash (DCT of a 64×64 reduction, ``bits_side``² low frequencies vs their median)."""
    import cv2

    small = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.dct(small)[:bits_side, :bits_side].ravel()[1:]
    bits = (d > np.median(d)).astype(np.uint8)
    bits = np.concatenate([[0], bits])
    return np.packbits(bits).tobytes().hex()


def median_u8(a: np.ndarray | None = None, *, hist: np.ndarray | None = None) -> float:
    """``np.median`` of uint8 samples (or of their 256-bin histogram), O(n), no sort or partition."""
    h = np.bincount(a.ravel(), minlength=256) if hist is None else hist
    n = int(h.sum())
    if n == 0:
        return 0.0
    c = np.cumsum(h)
    lo = int(np.searchsorted(c, (n - 1) // 2, side="right"))
    hi = int(np.searchsorted(c, n // 2, side="right"))
    return (lo + hi) / 2


def hamming(a: str, b: str) -> int:
    return int.bit_count(int(a, 16) ^ int(b, 16))


def resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    if (w, h) == size:
        return img
    if size[0] >= w:
        return cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
    return cv2.resize(halve_to(img, size), size, interpolation=cv2.INTER_AREA)


def halve_to(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Halve (2×2 box average) while the result stays at least twice ``size``. cv2's INTER_AREA has
    a fast path for exact halving, 4–5× faster per pixel than a general area reduction; the caller
    finishes with one INTER_AREA resize by a factor of 2–4, so the result stays close to a direct
    area reduction (a last step below 2× would add visible blur: −25 % Laplacian variance)."""
    import cv2

    while img.shape[1] // 4 >= size[0] and img.shape[0] // 4 >= size[1] and min(img.shape[:2]) >= 2:
        h, w = img.shape[:2]
        img = cv2.resize(img[: h - h % 2, : w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return img


def crop_rotate(img: np.ndarray, m_dst_to_src: np.ndarray, size: tuple[int, int], border: Any) -> np.ndarray:
    """Resample ``img`` through a derivative→master affine. Pure crops are sliced (no resampling)."""
    from guji.clean.geometry import warp

    m = m_dst_to_src
    if (abs(m[0, 1]) < 1e-12 and abs(m[1, 0]) < 1e-12 and abs(m[0, 0] - 1) < 1e-12 and abs(m[1, 1] - 1) < 1e-12
            and float(m[0, 2]).is_integer() and float(m[1, 2]).is_integer()):
        x0, y0 = int(m[0, 2]), int(m[1, 2])
        h, w = img.shape[:2]
        if x0 >= 0 and y0 >= 0 and x0 + size[0] <= w and y0 + size[1] <= h:
            return np.ascontiguousarray(img[y0:y0 + size[1], x0:x0 + size[0]])
    return warp(img, m, size, border=border)
