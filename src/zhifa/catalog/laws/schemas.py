"""API and service shapes of the legal library (法律法规库)."""

from __future__ import annotations

from datetime import date
from typing import Self

from pydantic import BaseModel, Field, model_validator

from zhifa.models.catalog import LawKind, LegalDocument, Provision

NATIONAL = "national"


class LawMeta(BaseModel):
    """What the statute text does not say in a fixed place: rank, issuing body, region, dates."""

    kind: LawKind
    issuing_body: str = Field(default="", max_length=200)
    jurisdiction: str = Field(default=NATIONAL, min_length=1, max_length=100)
    promulgated_on: date | None = None
    revision_date: date
    effective_on: date
    repealed_on: date | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def dates_in_order(self) -> Self:
        if self.promulgated_on is not None and self.promulgated_on > self.revision_date:
            raise ValueError("promulgated_on is after revision_date")
        if self.effective_on < self.revision_date:
            raise ValueError("effective_on is before revision_date")
        if self.repealed_on is not None and self.repealed_on <= self.effective_on:
            raise ValueError("repealed_on is not after effective_on")
        return self


class LegalDocumentRead(BaseModel):
    id: int
    title: str
    short_title: str
    kind: LawKind
    kind_label: str
    issuing_body: str
    jurisdiction: str
    promulgated_on: date | None
    revision_date: date
    effective_on: date
    repealed_on: date | None
    history: list[str] = Field(description="The dated history lines (公布, 修正, 修订 …)")
    source_name: str
    content_sha256: str

    @classmethod
    def of(cls, row: LegalDocument) -> Self:
        kind = LawKind(row.kind)
        return cls(
            id=row.id,
            title=row.title,
            short_title=row.short_title,
            kind=kind,
            kind_label=kind.label,
            issuing_body=row.issuing_body,
            jurisdiction=row.jurisdiction,
            promulgated_on=row.promulgated_on,
            revision_date=row.revision_date,
            effective_on=row.effective_on,
            repealed_on=row.repealed_on,
            history=[line for line in row.history.split("\n") if line],
            source_name=row.source_name,
            content_sha256=row.content_sha256,
        )


class ProvisionRead(BaseModel):
    id: int
    document_id: int
    document_title: str
    article: int
    label: str
    chapter: str
    text: str
    paragraphs: list[str] = Field(description="The paragraphs (款), each with its items (项)")
    version: int
    effective_on: date
    supersedes_id: int | None
    note: str

    @classmethod
    def of(cls, row: Provision, document_title: str) -> Self:
        return cls(
            id=row.id,
            document_id=row.document_id,
            document_title=document_title,
            article=row.article,
            label=row.label,
            chapter=row.chapter,
            text=row.text,
            paragraphs=row.text.split("\n\n"),
            version=row.version,
            effective_on=row.effective_on,
            supersedes_id=row.supersedes_id,
            note=row.note,
        )


class LegalDocumentPage(BaseModel):
    items: list[LegalDocumentRead]
    total: int


class LegalDocumentDetail(LegalDocumentRead):
    provisions: list[ProvisionRead] = Field(description="The latest version of each article")


class ProvisionPage(BaseModel):
    items: list[ProvisionRead]
    total: int


class ProvisionVersionsRead(BaseModel):
    provision: ProvisionRead
    document: LegalDocumentRead
    versions: list[ProvisionRead] = Field(description="Every version of the article, oldest first")


class ProvisionRevise(BaseModel):
    text: str = Field(min_length=1, max_length=20000, description="The whole new article text")
    effective_on: date
    note: str = Field(min_length=1, max_length=2000, description="Why the text changed")
