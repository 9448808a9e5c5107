"""Command-line entry points of the `ocr` stage: ``guji ocr`` and ``guji eval ocr``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from guji.clikit import guarded, stage_command
from guji.exitcodes import ExitCode
from guji.ocr.stage import SETTINGS

OCR_HELP = """\
Read the text of every cleaned canvas: layout (frame, columns right to left, double-row
notes, centre column 版心, registers) and recognition. Writes WORK/ocr/<item>/<canvas>.json
(page model, master pixel coordinates), .alto.xml (ALTO 4.4), .page.xml (PAGE 2019), .hocr and .txt.

Options override batch.toml's [ocr] table. Layout comes from the item's profile
(rare-book: vertical right to left, local-document: horizontal) unless --layout is given.

\b
Example:
  guji ocr --work work
  guji ocr --work work --engine tesseract --force
"""


EVAL_OCR_HELP = """\
Measure OCR accuracy: character error rate (CER) per page and overall, with and without
punctuation and with traditional/simplified + variant folding, and seconds per page.

IMAGES holds page images; TRUTH holds <page>.txt transcriptions with one line per printed
column (or line) in reading order (the format of ../shared/eval/dzj-dev/gt_txt).

\b
Example:
  guji eval ocr --images ../shared/eval/dzj-dev/images --truth ../shared/eval/dzj-dev/gt_txt
"""


@click.group("eval", help="Evaluate pipeline outputs against ground truth.")
def eval_group() -> None:
    pass


@eval_group.command("ocr", help=EVAL_OCR_HELP)
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--truth", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--engine", type=click.Choice(["rapidocr", "tesseract"]), default="rapidocr", show_default=True)
@click.option("--layout", type=click.Choice(["auto", "vertical-rtl", "horizontal"]), default="vertical-rtl",
              show_default=True)
@click.option("--mode", type=click.Choice(["layout", "page"]), default="layout", show_default=True)
@click.option("--upscale", default="auto", show_default=True)
@click.option("--lm", default="auto", show_default=True, help="Character-LM re-ranking: auto, off or a model file.")
@click.option("--json", "json_out", is_flag=True, help="Print the full result as JSON.")
@guarded
def eval_ocr(images: Path, truth: Path, engine: str, layout: str, mode: str, upscale: str, lm: str,
             json_out: bool) -> ExitCode:
    from guji.errors import GujiError
    from guji.ocr.evaluate import evaluate, find_pairs

    if not find_pairs(images, truth):
        raise GujiError(f"no image in {images} has a matching .txt in {truth}", ExitCode.USAGE)
    res = evaluate(images, truth, engine=engine, mode=mode, direction=layout, upscale=upscale, lm=lm)
    if json_out:
        click.echo(json.dumps(res, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{'page':<24}{'chars':>6}{'CER':>8}{'no punct':>10}{'folded':>8}{'s':>7}")
        for p in res["pages"]:
            if "error" in p:
                click.echo(f"{p['page']:<24} {p['error']}")
                continue
            click.echo(f"{p['page']:<24}{p['chars']:>6}{p['cer']:>8.3f}{p['cer_nopunct']:>10.3f}"
                       f"{p['cer_folded']:>8.3f}{p['seconds']:>7.2f}")
        o = res["overall"]
        click.echo(f"{'overall':<24}{'':>6}{o['cer']:>8.3f}{o['cer_nopunct']:>10.3f}{o['cer_folded']:>8.3f}"
                   f"{o.get('seconds_per_page', 0):>7.2f}")
    return ExitCode.OK


commands = [
    stage_command("ocr", "guji.ocr.stage:run", help=OCR_HELP, options=SETTINGS.click_options()),
    eval_group,
]
