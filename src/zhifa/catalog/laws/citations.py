"""Legal citations (法律依据): reading them, finding the text they point to, writing them.

A citation names a document in 《》 and an article, optionally a paragraph (款) and an item (项):
``《中华人民共和国大气污染防治法》第一百一十八条第三款``, ``《城乡规划法》第64条``,
``《固体废物污染环境防治法》第一百一十一条第一款第（一）项``. In a list, a citation without a
title carries the previous one's (``《大气污染防治法》第六十九条、第一百一十五条``), and one that
starts at the paragraph or item carries the previous article (``第八十一条第一款、第二款``).

Resolution is by date: the revision of the document in force on that date (title or short title,
``effective_on`` on or before it, not repealed), then the version of the article in force on that
date, then the paragraph or item inside its text. A citation that does not resolve is refused with
``InvalidInput`` naming it; nothing is guessed.

The importer and the discretion engine depend on these names: ``CitationRef``, ``parse_citations``,
``resolve``, ``ResolvedCitation``, ``excerpt``, ``format_citation``, ``provision_in_force``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from zhifa.catalog.laws import repository as repo
from zhifa.catalog.laws.markdown import ITEM, NUMERAL
from zhifa.errors import InvalidInput, NotFound
from zhifa.kit.cn_numerals import from_int, to_int
from zhifa.models.catalog import LegalDocument, Provision


@dataclass(frozen=True)
class CitationRef:
    title: str
    article: int
    paragraph: int = 0
    item: int = 0


@dataclass(frozen=True)
class ResolvedCitation:
    ref: CitationRef
    document: LegalDocument
    provision: Provision
    label: str  # the citation with the document's full title
    text: str  # the cited article, paragraph or item


_TITLE = re.compile(r"\s*《\s*([^《》]*?)\s*》\s*")
_ARTICLE = re.compile(rf"\s*第\s*({NUMERAL})\s*条")
_PARAGRAPH = re.compile(rf"\s*第\s*({NUMERAL})\s*款")
_ITEM = re.compile(rf"\s*第\s*(?:[（(]\s*({NUMERAL})\s*[）)]|({NUMERAL}))\s*项")
_SEPARATOR = re.compile(r"[；;、,，\s]+")
_FRAGMENT_END = re.compile(r"[；;、,，\n]")


class _Unreadable(Exception):
    pass


def _number(match: re.Match[str]) -> int:
    value = to_int(next(g for g in match.groups() if g))
    if value < 1:
        raise ValueError("numbers start at 1")
    return value


class _Reader:
    """Reads one citation after another, carrying the title and article forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.last: CitationRef | None = None

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return match

    def citation(self) -> CitationRef:
        title_match = self.take(_TITLE)
        title = title_match.group(1) if title_match else self.last.title if self.last else ""
        if not title:
            raise _Unreadable
        article_match = self.take(_ARTICLE)
        if article_match:
            article = _number(article_match)
        elif self.last is not None and not title_match:
            article = self.last.article  # 第一款、第二款: the article carries over
        else:
            raise _Unreadable
        paragraph_match = self.take(_PARAGRAPH)
        if paragraph_match:
            paragraph = _number(paragraph_match)
        elif not article_match and self.last is not None:
            paragraph = self.last.paragraph  # 第（一）项、第（二）项: the paragraph too
        else:
            paragraph = 0
        item_match = self.take(_ITEM)
        if not (article_match or paragraph_match or item_match):
            raise _Unreadable
        return CitationRef(title, article, paragraph, _number(item_match) if item_match else 0)

    def fragment(self, start: int) -> str:
        end = _FRAGMENT_END.search(self.text, max(self.pos, start + 1))
        return self.text[start : end.start() if end else len(self.text)].strip()


def parse_citations(text: str, *, field: str = "citations") -> list[CitationRef]:
    """Every citation in ``text``, in order; [] for blank text; ``InvalidInput`` naming the first
    fragment that is not a citation."""
    reader = _Reader(text.strip())
    refs: list[CitationRef] = []
    reader.take(_SEPARATOR)
    while reader.pos < len(reader.text):
        start = reader.pos
        try:
            ref = reader.citation()
            if reader.pos < len(reader.text) and not reader.take(_SEPARATOR):
                raise _Unreadable
        except (_Unreadable, ValueError):
            reader.pos = start
            fragment = reader.fragment(start)
            raise InvalidInput(
                "The citation {fragment} cannot be read: write it as 《title》第N条第N款第（N）项.",
                detail={"field": field, "fragment": fragment},
                fragment=fragment,
            ) from None
        refs.append(ref)
        reader.last = ref
    return refs


def format_citation(title: str, article: int, paragraph: int = 0, item: int = 0) -> str:
    """``《中华人民共和国大气污染防治法》第一百一十八条第三款``; 0 leaves a part out."""
    text = f"《{title}》第{from_int(article)}条"
    if paragraph:
        text += f"第{from_int(paragraph)}款"
    if item:
        text += f"第（{from_int(item)}）项"
    return text


def excerpt(text: str, paragraph: int, item: int) -> str:
    """The paragraph (款) or item (项) of an article's text; 0 means the whole. An item of
    paragraph 0 is an item of an article with a single paragraph. ``ValueError`` when the text has
    no such paragraph or item."""
    if paragraph < 0 or item < 0:
        raise ValueError("paragraph and item numbers are not negative")
    if paragraph == 0 and item == 0:
        return text
    paragraphs = text.split("\n\n")
    if paragraph == 0 and len(paragraphs) > 1:
        raise ValueError(f"the article has {len(paragraphs)} paragraphs: name the paragraph")
    if paragraph > len(paragraphs):
        raise ValueError(f"the article has {len(paragraphs)} paragraphs")
    chosen = paragraphs[max(paragraph, 1) - 1]
    if item == 0:
        return chosen
    for line in chosen.split("\n"):
        marker = ITEM.match(line)
        if marker and to_int(marker.group(1)) == item:
            return line
    raise ValueError(f"the paragraph has no item ({from_int(item)})")


def _does_not_exist(ref: CitationRef, field: str) -> InvalidInput:
    citation = format_citation(ref.title, ref.article, ref.paragraph, ref.item)
    return InvalidInput(
        "{citation} does not exist.",
        detail={"field": field, "citation": citation},
        citation=citation,
    )


def _documents(
    session: Session, refs: list[CitationRef], on: date, field: str
) -> dict[str, LegalDocument]:
    """The revision in force on ``on`` of each distinct title: one query per title."""
    found: dict[str, LegalDocument] = {}
    for title in dict.fromkeys(ref.title for ref in refs):
        document = repo.document_in_force(session, title, on)
        if document is None:
            raise InvalidInput(
                "No revision of 《{title}》 is in force on {date}.",
                detail={"field": field, "title": title},
                title=title,
                date=on.isoformat(),
            )
        found[title] = document
    return found


def resolve(
    session: Session, refs: list[CitationRef], *, on: date, field: str = "citations"
) -> list[ResolvedCitation]:
    """Each citation resolved on ``on`` (see the module docstring), in the order given."""
    documents = _documents(session, refs, on, field)
    wanted = {(documents[ref.title].id, ref.article) for ref in refs}
    provisions = repo.provisions_in_force(session, wanted, on)
    resolved: list[ResolvedCitation] = []
    for ref in refs:
        document = documents[ref.title]
        provision = provisions.get((document.id, ref.article))
        if provision is None:
            raise _does_not_exist(ref, field)
        try:
            text = excerpt(provision.text, ref.paragraph, ref.item)
        except ValueError:
            raise _does_not_exist(ref, field) from None
        label = format_citation(document.title, ref.article, ref.paragraph, ref.item)
        resolved.append(ResolvedCitation(ref, document, provision, label, text))
    return resolved


def provision_in_force(session: Session, provision_id: int, on: date) -> Provision:
    """Given any version's id, the version of that article in force on ``on``."""
    row = repo.provision(session, provision_id)
    if row is None:
        raise NotFound(
            "Provision {provision_id} does not exist.",
            detail={"provision_id": provision_id},
            provision_id=provision_id,
        )
    found = repo.provision_in_force(session, row.document_id, row.article, on)
    if found is None:
        document = repo.document(session, row.document_id)
        citation = format_citation(document.title if document else "?", row.article)
        raise InvalidInput(
            "{citation} is not in force on {date}.",
            detail={"field": "date", "citation": citation},
            citation=citation,
            date=on.isoformat(),
        )
    return found
