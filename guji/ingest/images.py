"""Inspect one master image: hash, format, size, depth, mode, ICC, resolution, full decode.

JPEG masters, and every strip of a JPEG-compressed TIFF (:func:`check_tiff_jpeg`), are decoded by
libjpeg-turbo with warnings as errors (:func:`check_jpeg`), so damaged entropy-coded data is found at
ingest; other formats by Pillow to the last byte.

Runs in worker processes (``inspect_page`` is the task function). Never raises for a bad
image: every defect comes back as a problem dict so the batch goes on.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from guji.fsutil import sha256_file

IMAGE_EXTENSIONS = {".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".j2k", ".jpx"}
SUPPORTED_FORMATS = {"TIFF", "JPEG", "PNG", "JPEG2000", "MPO"}

# bits per sample for PIL modes
_MODE_BITS = {"1": 1, "L": 8, "LA": 8, "P": 8, "RGB": 8, "RGBA": 8, "CMYK": 8, "YCbCr": 8, "LAB": 8,
              "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16, "I": 32, "F": 32}


def _problem(code: str, message: str) -> dict[str, Any]:
    return {"severity": "error", "code": code, "message": message}


def _icc_name(icc: bytes | None) -> str | None:
    if not icc:
        return None
    try:
        import io

        from PIL import ImageCms

        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.getProfileDescription(prof).strip() or "embedded (unnamed)"
    except Exception:  # noqa: BLE001 - a broken profile is reported, not fatal
        return "embedded (unreadable)"


def _ppi(info: dict[str, Any]) -> tuple[float, float] | None:
    dpi = info.get("dpi")
    if dpi and all(float(v) > 0 for v in dpi):
        return (round(float(dpi[0]), 2), round(float(dpi[1]), 2))
    return None


def inspect_image(path: Path, max_pixels: int) -> dict[str, Any]:
    """Measure one image file. Returns a dict of Page fields plus ``problems`` (list of dicts)."""
    out: dict[str, Any] = {"problems": []}
    try:
        st = path.stat()
    except OSError as e:
        out["problems"].append(_problem("unreadable-file", f"cannot stat: {e.strerror or e}"))
        return out
    out["size"] = st.st_size
    if st.st_size == 0:
        out["problems"].append(_problem("zero-byte-file", "file is empty (0 bytes)"))
        return out
    try:
        out["sha256"] = sha256_file(path)
    except OSError as e:
        out["problems"].append(_problem("unreadable-file", f"cannot read: {e.strerror or e}"))
        return out

    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # we apply our own cap before decoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(path)
    except UnidentifiedImageError:
        out["problems"].append(_problem("not-an-image", "not a readable image (unknown or corrupt format)"))
        return out
    except Exception as e:  # noqa: BLE001
        out["problems"].append(_problem("unreadable-image", f"cannot open: {e}"))
        return out
    with im:
        fmt = im.format or ""
        out["format"] = "JPEG2000" if fmt == "JPEG2000" else fmt
        out["width"], out["height"] = im.size
        out["mode"] = im.mode
        bits = None
        if fmt == "TIFF":
            tag = im.tag_v2.get(258)  # BitsPerSample
            if tag:
                bits = int(tag[0] if isinstance(tag, tuple) else tag)
            comp = im.info.get("compression")
            out["compression"] = str(comp) if comp else None
        elif fmt == "JPEG":
            out["compression"] = "jpeg"
        elif fmt == "PNG":
            out["compression"] = "deflate"
        elif fmt == "JPEG2000":
            out["compression"] = "jpeg2000"
        out["bit_depth"] = bits or _MODE_BITS.get(im.mode, 8)
        out["icc_profile"] = _icc_name(im.info.get("icc_profile"))
        out["ppi"] = _ppi(im.info)
        if fmt not in SUPPORTED_FORMATS:
            out["problems"].append(_problem("unsupported-format",
                                            f"{fmt or 'unknown'} images are not accepted as masters "
                                            f"(use TIFF, JPEG, PNG or JPEG 2000)"))
            return out
        pixels = im.size[0] * im.size[1]
        if pixels > max_pixels:
            out["problems"].append(_problem(
                "decompression-bomb",
                f"{im.size[0]}x{im.size[1]} = {pixels} pixels is over the limit of {max_pixels} "
                f"([ingest] max_pixels or --max-pixels); not decoded"))
            return out
        if im.size[0] == 0 or im.size[1] == 0:
            out["problems"].append(_problem("empty-image", "image has no pixels"))
            return out
        if fmt in ("JPEG", "MPO"):
            # libjpeg's warnings ("Corrupt JPEG data: N extraneous bytes before marker", "premature
            # end of data segment") mean damaged entropy-coded data: Pillow decodes such files
            # without a word and the page is garbage below the damage. simplejpeg (libjpeg-turbo,
            # strict) turns them into errors; this full decode replaces Pillow's.
            out["problems"].extend(check_jpeg(path))
            return out
        if fmt == "TIFF" and out.get("compression") == "jpeg":
            # JPEG inside TIFF: libtiff passes libjpeg's warnings to a handler that only prints, so
            # Pillow decodes damaged strips without a word. Each strip (or tile) is a JPEG stream
            # of its own: decode them strictly as for a JPEG master.
            out["problems"].extend(check_tiff_jpeg(path, im))
            if any(p["severity"] == "error" for p in out["problems"]):
                return out
        try:
            from PIL import ImageFile

            ImageFile.LOAD_TRUNCATED_IMAGES = False
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # libjpeg "premature end" warnings become errors
                im.load()
                if getattr(im, "n_frames", 1) > 1 and fmt == "TIFF":
                    out["problems"].append({"severity": "warning", "code": "multi-page-tiff",
                                            "message": f"TIFF has {im.n_frames} pages; only the first is used"})
        except Exception as e:  # noqa: BLE001
            out["problems"].append(_problem("truncated-image", f"cannot decode the whole image: {e}"))
    return out


# libjpeg warnings that mean the compressed data is damaged (the page is blocked); any other
# decoder warning (an unknown Adobe transform code …) is reported and the page goes on
_JPEG_CORRUPT = ("corrupt jpeg data", "premature end", "extraneous bytes", "bad huffman", "invalid")


def check_jpeg(path: Path) -> list[dict[str, Any]]:
    """Decode a JPEG to the end with libjpeg-turbo treating warnings as errors (simplejpeg, strict).

    Returns problem dicts: ``corrupt-jpeg-data`` (error, with libjpeg's message), or a
    ``jpeg-decoder-warning`` (warning) for decoder complaints that are not damage."""
    return _check_jpeg_bytes(path.read_bytes())


def _check_jpeg_bytes(data: bytes) -> list[dict[str, Any]]:
    import simplejpeg

    try:
        _h, _w, colorspace, _sub = simplejpeg.decode_jpeg_header(data)
        cs = {"Gray": "GRAY", "CMYK": "CMYK"}.get(str(colorspace), "RGB")
        simplejpeg.decode_jpeg(data, colorspace=cs, strict=True)
    except ValueError as e:
        msg = str(e).strip()
        if "premature end of jpeg file" in msg.lower():  # the file stops before its end marker
            return [_problem("truncated-image", f"cannot decode the whole image (libjpeg: {msg})")]
        if any(k in msg.lower() for k in _JPEG_CORRUPT):
            return [_problem("corrupt-jpeg-data",
                             f"JPEG 压缩数据损坏，解码后画面不完整 / damaged JPEG data, the decoded page is not "
                             f"whole (libjpeg: {msg}); scan or export the page again")]
        return [{"severity": "warning", "code": "jpeg-decoder-warning", "message": f"libjpeg: {msg}"}]
    return []


def check_tiff_jpeg(path: Path, im: Any) -> list[dict[str, Any]]:
    """Strict libjpeg-turbo decode of every strip or tile of a JPEG-compressed TIFF (compression 7).

    Each strip holds an abbreviated JPEG stream (no tables); the tables are in the JPEGTables tag
    (347). Tables + strip make a complete stream, decoded like a JPEG master (:func:`check_jpeg`):
    damaged entropy data is a ``corrupt-jpeg-data`` error naming the strip."""
    tags = im.tag_v2
    offsets, counts, unit = tags.get(324), tags.get(325), "tile"
    if not offsets:
        offsets, counts, unit = tags.get(273), tags.get(279), "strip"
    if not offsets or not counts or len(offsets) != len(counts):
        return [_problem("corrupt-jpeg-data", "JPEG-compressed TIFF without valid strip/tile offsets")]
    tables = bytes(tags.get(347) or b"")
    if tables.endswith(b"\xff\xd9"):
        tables = tables[:-2]  # its own EOI: the strip's data follows
    size = path.stat().st_size
    with open(path, "rb") as f:
        for k, (off, n) in enumerate(zip(offsets, counts)):
            if off + n > size:
                return [_problem("truncated-image", f"{unit} {k + 1} of {len(offsets)} ends past the end of the file "
                                                    f"({off + n} > {size} bytes)")]
            f.seek(off)
            data = f.read(n)
            if tables and data.startswith(b"\xff\xd8"):
                data = tables + data[2:]
            probs = _check_jpeg_bytes(data)
            for p in probs:
                p["message"] = f"{unit} {k + 1} of {len(offsets)}: {p['message']}"
            if probs:
                return probs
    return []


def inspect_page(task) -> Any:
    """Task function for the executor: ``task.payload = {"path": absolute path, "max_pixels": N}``."""
    from guji.stage import TaskOutput

    path = Path(task.payload["path"])
    info = inspect_image(path, int(task.payload["_params"]["max_pixels"]))
    return TaskOutput(outputs={}, info=info)


def file_identity(path: Path) -> str:
    """Cheap change detector for resumption (size and mtime); fixity uses the SHA-256."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"
