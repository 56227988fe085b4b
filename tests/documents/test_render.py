"""The PDF: A4, a CJK font embedded (not merely extractable text), the number and the amount
printed, the QR code pointing at the verify page, page numbers, and byte-identical re-rendering."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from typing import Any

import pytest
import qrcode
from fastapi.testclient import TestClient
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.documents.helpers import DocWorld, body
from zhifa import blobs
from zhifa.config import Settings
from zhifa.documents import render
from zhifa.models.documents import Document, DocumentNumber, DocumentSignature

A4 = (595.28, 841.89)  # points


@pytest.fixture
def lead(session: Session, world: DocWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.field.officer)
    session.commit()
    return headers


@pytest.fixture
def decision(client: TestClient, world: DocWorld, lead: dict[str, str]) -> dict[str, Any]:
    data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 1}
    serial = client.post("/api/v1/number-blocks", json=data, headers=lead).json()["first_serial"]
    answer = client.post(
        "/api/v1/documents", json=body(world, "on_spot_penalty", serial=serial), headers=lead
    )
    assert answer.status_code == 201
    result: dict[str, Any] = answer.json()
    result["pdf"] = client.get(answer.json()["pdf_url"], headers=lead).content
    return result


def embedded_fonts(reader: PdfReader) -> list[tuple[str, list[str]]]:
    """(BaseFont, font-file keys of its descriptor) of every font used on the pages."""
    found = []
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font", DictionaryObject())
        for ref in fonts.get_object().values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                d = descendant.get_object()
                descriptor = d.get("/FontDescriptor")
                keys = (
                    [k for k in descriptor.get_object() if k.startswith("/FontFile")]
                    if descriptor
                    else []
                )
                found.append((str(d.get("/BaseFont")), keys))
    return found


def modules(svg: str) -> list[list[bool]]:
    """The dark modules the SVG path draws (a run per ``h``, moves by ``M``/``m``)."""
    size = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))  # type: ignore[union-attr]
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", svg.split(' d="')[1]):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x += float(a)
        else:
            for offset in range(int(float(a))):
                grid[int(y)][int(x) + offset] = True
            x += float(a)
    return grid


def expected_modules(text: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    return [[bool(v) for v in row] for row in code.get_matrix()]


def text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return "".join(p.extract_text() for p in pages).replace("\n", "")


class TestThePdf:
    def test_a_cjk_font_is_embedded_as_a_font_file(self, decision: dict[str, Any]) -> None:
        fonts = embedded_fonts(PdfReader(io.BytesIO(decision["pdf"])))

        cjk = [(name, keys) for name, keys in fonts if "CJK" in name]
        assert cjk, fonts
        assert all({"/FontFile2", "/FontFile3"} & set(keys) for _, keys in cjk)

    def test_every_page_is_a4(self, decision: dict[str, Any]) -> None:
        for page in PdfReader(io.BytesIO(decision["pdf"])).pages:
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            assert width == pytest.approx(A4[0], abs=0.5)
            assert height == pytest.approx(A4[1], abs=0.5)

    def test_the_number_the_amount_and_the_verify_address_are_printed(
        self, decision: dict[str, Any]
    ) -> None:
        printed = text(decision["pdf"])

        assert decision["number_text"] in printed
        assert "人民币贰仟元整" in printed
        assert "¥2,000.00" in printed
        assert decision["public_id"] in printed
        assert "第 1 页 共" in printed

    def test_the_pdf_carries_the_issue_time_as_its_dates_and_the_number_as_title(
        self, session: Session, decision: dict[str, Any]
    ) -> None:
        info = PdfReader(io.BytesIO(decision["pdf"])).metadata
        doc = session.get_one(Document, decision["id"])
        stamp = doc.fields["issued_at"][:19].replace("-", "").replace("T", "").replace(":", "")

        assert info is not None
        assert info["/CreationDate"].startswith("D:" + stamp)
        assert info["/ModDate"] == info["/CreationDate"]
        assert decision["number_text"] in info["/Title"]

    def test_the_qr_code_printed_is_the_verify_address(
        self, session: Session, decision: dict[str, Any]
    ) -> None:
        doc = session.get_one(Document, decision["id"])
        html = render.render_html(doc.fields, {})

        assert doc.fields["verify_url"] == decision["verify_url"]
        assert modules(str(render.qr_svg(decision["verify_url"]))) == expected_modules(
            decision["verify_url"]
        )
        assert str(render.qr_svg(decision["verify_url"])) in html

    def test_the_stored_fields_and_signatures_render_the_same_bytes_again(
        self, session: Session, settings: Settings, decision: dict[str, Any]
    ) -> None:
        doc = session.get_one(Document, decision["id"])
        signed = session.scalars(
            select(DocumentSignature).where(DocumentSignature.document_id == doc.id)
        ).all()
        images = {
            s.image_sha256: blobs.open_path(settings.blob_dir, s.image_sha256).read_bytes()
            for s in signed
            if s.image_sha256
        }

        again = render.render_pdf(doc.fields, images)

        assert hashlib.sha256(again).hexdigest() == doc.pdf_sha256 == decision["pdf_sha256"]


class TestNoChineseFont:
    def test_without_a_cjk_font_nothing_is_rendered_and_the_issue_is_refused(
        self,
        client: TestClient,
        session: Session,
        world: DocWorld,
        lead: dict[str, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("PATH", "/nonexistent")  # no fc-match: fontconfig cannot be asked
        render.cjk_family.cache_clear()
        try:
            answer = client.post(
                "/api/v1/documents", json=body(world, "inspection_record"), headers=lead
            )
        finally:
            render.cjk_family.cache_clear()

        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "fonts_missing"
        assert "fonts-noto-cjk" in answer.json()["error"]["message"]
        assert session.scalar(select(func.count()).select_from(Document)) == 0
        assert session.scalar(select(func.count()).select_from(DocumentNumber)) == 0
