"""Rules of the legal library: importing statutes, revising provisions, reading both.

Invariants:
- A document revision is named by its title and revision date. Importing the same revision with
  the same content changes nothing; with different content it is refused (a changed article is a
  provision revision, not a re-import).
- ``content_sha256`` is the SHA-256 of the RFC 8785 canonical JSON of
  ``[[article, chapter, text], …]`` as imported.
- Provisions are never updated (the database refuses it): a revision is a new row with the next
  version number, superseding the latest, effective on or after it.
- Every write is a ledger event in the caller's session: ``catalog.law.imported`` on the document,
  ``catalog.provision.imported`` per article, ``catalog.provision.revised`` per revision. Laws are
  national, so the events carry no district.

Reads take no actor: laws and provisions are national and every role may read them (the routes
check ``CATALOG_READ``).
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.catalog.laws import repository as repo
from zhifa.catalog.laws.markdown import Statute, clean, parse
from zhifa.catalog.laws.schemas import LawMeta
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.ledger.canonical import canonical_bytes
from zhifa.models.catalog import LawKind, LegalDocument, Provision
from zhifa.org.actor import Actor

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample" / "laws"
SAMPLE_INDEX = SAMPLE_DIR / "laws.json"
TITLE_MAX = 200
CHAPTER_MAX = 200


@dataclass(frozen=True)
class LawImportResult:
    document: LegalDocument
    created: bool
    provisions: int


def statute_content(statute: Statute) -> list[list[Any]]:
    return [[a.number, a.chapter, a.text] for a in statute.articles]


def content_sha256(content: list[list[Any]]) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def article_text(text: str) -> str:
    """Text as the library stores it: NFC, one blank line between paragraphs, items on their own
    lines, no blank or padded lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = re.split(r"\n\s*\n", text.strip())
    kept = ("\n".join(c for line in p.split("\n") if (c := clean(line))) for p in paragraphs)
    return "\n\n".join(p for p in kept if p)


def _parse(text: str, source_name: str) -> Statute:
    try:
        statute = parse(text)
    except ValueError as exc:
        raise InvalidInput(
            "The statute file {source} cannot be read: {problem}.",
            detail={"field": "text", "problem": str(exc)},
            source=source_name,
            problem=str(exc),
        ) from None
    too_long = [a.label for a in statute.articles if len(a.chapter) > CHAPTER_MAX]
    if too_long:
        raise InvalidInput(
            "The chapter heading of {label} is longer than {limit} characters.",
            detail={"field": "text"},
            label=too_long[0],
            limit=CHAPTER_MAX,
        )
    return statute


class LawService:
    # Reading ----------------------------------------------------------------------------------

    def get_document(self, session: Session, *, document_id: int) -> LegalDocument:
        row = repo.document(session, document_id)
        if row is None:
            raise NotFound(
                "Legal document {document_id} does not exist.",
                detail={"document_id": document_id},
                document_id=document_id,
            )
        return row

    def list_documents(
        self,
        session: Session,
        *,
        query: str | None = None,
        kind: LawKind | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> repo.Page:
        return repo.search_documents(session, query=query, kind=kind, limit=limit, offset=offset)

    def provisions(self, session: Session, *, document_id: int) -> builtins.list[Provision]:
        """The latest version of each article, in article order."""
        return repo.latest_provisions(session, document_id)

    def get_provision(self, session: Session, *, provision_id: int) -> Provision:
        row = repo.provision(session, provision_id)
        if row is None:
            raise NotFound(
                "Provision {provision_id} does not exist.",
                detail={"provision_id": provision_id},
                provision_id=provision_id,
            )
        return row

    def search_provisions(
        self,
        session: Session,
        *,
        query: str | None = None,
        document_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> repo.Page:
        return repo.search_provisions(
            session, query=query, document_id=document_id, limit=limit, offset=offset
        )

    def versions(self, session: Session, *, provision: Provision) -> builtins.list[Provision]:
        """Every version of the provision's article, oldest first."""
        return repo.versions(session, provision.document_id, provision.article)

    def titles(self, session: Session, document_ids: builtins.list[int]) -> dict[int, str]:
        return repo.titles(session, document_ids)

    # Importing --------------------------------------------------------------------------------

    def import_markdown(
        self,
        session: Session,
        *,
        actor_id: int | None,
        text: str,
        source_name: str,
        meta: LawMeta,
    ) -> LawImportResult:
        """Import one revision of a statute from LawRefBook Markdown (idempotent)."""
        statute = _parse(text, source_name)
        title = meta.title or statute.title
        if len(title) > TITLE_MAX:
            raise InvalidInput(
                "The title is longer than {limit} characters.",
                detail={"field": "title"},
                limit=TITLE_MAX,
            )
        content = statute_content(statute)
        digest = content_sha256(content)
        existing = repo.document_revision(session, title, meta.revision_date)
        if existing is not None:
            return self._unchanged(existing, digest, len(content))
        document = self._add_document(session, statute, meta, title, source_name, digest)
        rows = self._add_provisions(session, document, statute)
        ledger.record(
            session,
            "catalog.law.imported",
            document,
            {
                "title": title,
                "revision_date": meta.revision_date,
                "provisions": len(rows),
                "content_sha256": digest,
                "source_name": source_name,
            },
            actor_id=actor_id,
            district_code=None,
        )
        for row in rows:
            ledger.record(
                session,
                "catalog.provision.imported",
                row,
                {"document_id": document.id, "article": row.article},
                actor_id=actor_id,
                district_code=None,
            )
        return LawImportResult(document, True, len(rows))

    def _unchanged(self, existing: LegalDocument, digest: str, count: int) -> LawImportResult:
        if existing.content_sha256 != digest:
            raise Conflict(
                "《{title}》 of {revision_date} is already in the library with a different text. "
                "Record a changed article as a provision revision, or import the new revision "
                "with its own revision date.",
                detail={"field": "text", "document_id": existing.id},
                title=existing.title,
                revision_date=existing.revision_date.isoformat(),
            )
        return LawImportResult(existing, False, count)

    def _add_document(
        self,
        session: Session,
        statute: Statute,
        meta: LawMeta,
        title: str,
        source_name: str,
        digest: str,
    ) -> LegalDocument:
        document = LegalDocument(
            title=title,
            short_title=repo.short_title(title),
            kind=meta.kind,
            issuing_body=meta.issuing_body,
            jurisdiction=meta.jurisdiction,
            promulgated_on=meta.promulgated_on,
            revision_date=meta.revision_date,
            effective_on=meta.effective_on,
            repealed_on=meta.repealed_on,
            history="\n".join(statute.history),
            source_name=source_name[:255],
            content_sha256=digest,
        )
        session.add(document)
        session.flush()
        return document

    def _add_provisions(
        self, session: Session, document: LegalDocument, statute: Statute
    ) -> builtins.list[Provision]:
        rows = [
            Provision(
                document_id=document.id,
                article=a.number,
                label=a.label,
                chapter=a.chapter,
                text=a.text,
                version=1,
                effective_on=document.effective_on,
                supersedes_id=None,
                note="",
            )
            for a in statute.articles
        ]
        session.add_all(rows)
        session.flush()
        return rows

    def load_sample(self, session: Session) -> int:
        """Import every statute of ``catalog/sample/laws/laws.json``; return how many documents
        were new (0 on a second load)."""
        created = 0
        for entry in json.loads(SAMPLE_INDEX.read_text(encoding="utf-8")):
            meta = LawMeta.model_validate({k: v for k, v in entry.items() if k != "file"})
            result = self.import_markdown(
                session,
                actor_id=None,
                text=(SAMPLE_DIR / entry["file"]).read_text(encoding="utf-8"),
                source_name=f"sample/laws/{entry['file']}",
                meta=meta,
            )
            created += result.created
        return created

    # Revising ---------------------------------------------------------------------------------

    def revise_provision(
        self,
        session: Session,
        actor: Actor,
        *,
        provision_id: int,
        text: str,
        effective_on: date,
        note: str,
    ) -> Provision:
        """Record a new version of an article's text (the old versions stay readable)."""
        current = self.get_provision(session, provision_id=provision_id)
        latest = self.versions(session, provision=current)[-1]
        new_text = self._revised_text(latest, text)
        _check_revision(latest, effective_on, note)
        row = Provision(
            document_id=latest.document_id,
            article=latest.article,
            label=latest.label,
            chapter=latest.chapter,
            text=new_text,
            version=latest.version + 1,
            effective_on=effective_on,
            supersedes_id=latest.id,
            note=note.strip(),
        )
        session.add(row)
        session.flush()
        ledger.record(
            session,
            "catalog.provision.revised",
            row,
            {"supersedes_id": latest.id, "version": row.version, "note": row.note},
            actor_id=actor.officer_id,
            district_code=None,
        )
        return row

    def _revised_text(self, latest: Provision, text: str) -> str:
        new_text = article_text(text)
        if re.match(rf"{latest.label}[ 　]", new_text):  # pasted with its 第X条 label
            new_text = article_text(new_text[len(latest.label) :])
        if not new_text:
            raise InvalidInput("The article text is empty.", detail={"field": "text"})
        if new_text == latest.text:
            raise InvalidInput(
                "The text is the same as the current version: nothing to revise.",
                detail={"field": "text"},
            )
        return new_text


def _check_revision(latest: Provision, effective_on: date, note: str) -> None:
    if not note.strip():
        raise InvalidInput("Say why the text changed.", detail={"field": "note"})
    if effective_on < latest.effective_on:
        raise InvalidInput(
            "The new version cannot take effect before the version it replaces ({date}).",
            detail={"field": "effective_on"},
            date=latest.effective_on.isoformat(),
        )


law_service = LawService()
