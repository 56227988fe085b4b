"""Rendering a document's fields to an A4 PDF: Jinja2 print templates → WeasyPrint.

Official layout: the agency and the title centred in a bold serif (Noto Serif CJK SC Bold stands
in for 方正小标宋), the body in Noto Serif CJK SC (for 仿宋), the number right-aligned under the
title, signature boxes with the signature images, a QR code to the public verify page with the
number beside it, and 「第 N 页 共 M 页」 at the foot of each page.

Invariants:
- Deterministic: the same fields and signature images give byte-identical PDFs (no clock, no
  random id: the PDF dates come from the issue time, WeasyPrint writes no /ID by default, fonts are
  subset the same way each time). So a stored document can be re-rendered and compared.
- No tofu: without a CJK font (``fc-match`` finds none that covers zh-cn) nothing is rendered;
  ``FontsMissing`` (503) says what to install.
- Nothing is fetched: the templates embed images as data: URLs and the URL fetcher refuses any
  other URL, so text typed by an officer cannot make the renderer read a file or the network.
"""

from __future__ import annotations

import base64
import functools
import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Any

import qrcode
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from qrcode.constants import ERROR_CORRECT_M
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from zhifa.errors import AppError
from zhifa.web.templating import TEMPLATE_DIR

PRINT_DIR = TEMPLATE_DIR / "documents" / "print"
STYLESHEET = PRINT_DIR / "print.css"


class FontsMissing(AppError):
    status_code = 503
    code = "fonts_missing"


_env = Environment(
    loader=FileSystemLoader(str(PRINT_DIR)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@functools.cache
def cjk_family() -> str:
    """The font family that prints Chinese (Noto Serif CJK SC when installed)."""
    found = _fc_match("Noto Serif CJK SC:lang=zh-cn")
    if found is None:
        raise FontsMissing(
            "No Chinese font is installed, so documents cannot be printed; install the "
            "fonts-noto-cjk package (make run does) and restart.",
        )
    return found


def _fc_match(pattern: str) -> str | None:
    """The family fontconfig picks for ``pattern`` if it covers simplified Chinese, else None."""
    if shutil.which("fc-match") is None:
        return None
    result = subprocess.run(
        ["fc-match", "-f", "%{family}\n%{lang}", pattern],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    family, _, langs = result.stdout.partition("\n")
    if result.returncode != 0 or "zh-cn" not in langs.split("|"):
        return None
    return family.split(",")[0].strip() or None


_per_thread = threading.local()


def _styles(family: str) -> tuple[CSS, FontConfiguration]:
    """The print stylesheet and its font configuration, made once per thread and reused: building
    them for every document cost about a quarter of a render. (One per thread: WeasyPrint does
    not promise that a font configuration may be shared between threads.)"""
    cached: tuple[str, CSS, FontConfiguration] | None = getattr(_per_thread, "styles", None)
    if cached is None or cached[0] != family:
        fonts = FontConfiguration()
        text = STYLESHEET.read_text(encoding="utf-8").replace("__CJK__", family)
        cached = (family, CSS(string=text, font_config=fonts), fonts)
        _per_thread.styles = cached
    return cached[1], cached[2]


def qr_svg(text: str) -> Markup:
    """``text`` as a QR code (level M), an inline SVG 24 mm wide: each row of modules is one
    stroked line per run of dark modules (half the path data of filled squares, which WeasyPrint
    parses in Python on every render)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    path = []
    for y, row in enumerate(matrix):
        end: int | None = None
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            run = next((n for n in range(1, size - x) if not row[x + n]), size - x)
            path.append(f"M{x} {y}.5h{run}" if end is None else f"m{x - end} 0h{run}")
            end = x = x + run
    return Markup(
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><path fill="none" stroke="#000" stroke-width="1" '
        f'd="{"".join(path)}"/></svg>'
    )


def _data_only() -> URLFetcher:
    """A fetcher that reads data: URLs only (the embedded signature images)."""
    return URLFetcher(allowed_protocols={"data"})


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(fields: Mapping[str, Any], images: Mapping[str, bytes]) -> str:
    """The print HTML of a document (what WeasyPrint lays out)."""
    template = _env.get_template(f"{fields['doc_type']}.html")
    return template.render(
        f=fields,
        images={sha: data_url(png) for sha, png in images.items()},
        qr=qr_svg(str(fields["verify_url"])),
    )


def render_pdf(fields: Mapping[str, Any], images: Mapping[str, bytes]) -> bytes:
    """The A4 PDF of a document; ``images`` maps each signature's SHA-256 to its PNG bytes."""
    family = cjk_family()
    html = HTML(string=render_html(fields, images), url_fetcher=_data_only())
    css, fonts = _styles(family)
    pdf: bytes = html.write_pdf(stylesheets=[css], font_config=fonts)
    return pdf


def bare_pdf(text: str) -> bytes:
    """One page of a CJK paragraph with the same fonts: the benchmark's baseline."""
    family = cjk_family()
    html = HTML(string=f"<html lang='zh-CN'><body><p>{Markup.escape(text)}</p></body></html>")
    css, fonts = _styles(family)
    pdf: bytes = html.write_pdf(stylesheets=[css], font_config=fonts)
    return pdf
