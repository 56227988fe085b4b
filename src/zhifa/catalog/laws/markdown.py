"""Reading a statute in LawRefBook's Markdown format into articles (条), paragraphs (款) and items
(项). Pure: text in, ``Statute`` out, no database.

The format (see ``catalog/sample/laws/``): optional YAML front matter; ``# Title``; an optional
``# Subtitle``; dated history lines (``2021年1月22日 第十三届…修订``); ``<!-- INFO END -->``; then
``##``/``###`` chapter and section headings and the articles. An article is a line starting
``第X条`` and a space (ASCII or full-width); the lines after it, up to the next article or heading,
belong to it: each is a paragraph (款), except a line starting with an item marker ``（一）``, which
is an item (项) of the paragraph before it. HTML comments are dropped.

Invariants of a ``Statute``: it has a title and at least one article; articles are numbered 1, 2,
3 … with no gap; an article's ``text`` holds its paragraphs separated by a blank line, each
followed by its items one per line, without the ``第X条`` label. Anything else is refused with a
``ValueError`` that names the line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from zhifa.kit.cn_numerals import MAX, from_int, to_int

CHAPTER_SEPARATOR = "／"
NUMERAL = r"[零〇一二三四五六七八九十百千]+|[0-9０-９]+"
ARTICLE = re.compile(rf"^第({NUMERAL})条(之[零〇一二三四五六七八九十]+)?(?:[ 　]+(.*))?$")
ITEM = re.compile(rf"^[（(]({NUMERAL})[）)]")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
HISTORY = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
INFO_END = re.compile(r"<!--\s*INFO END\s*-->")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
DIVISION = re.compile(rf"^(第(?:{NUMERAL})[编章节])\s*(.*)$")
# Zero-width characters some files carry on otherwise empty lines.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


@dataclass(frozen=True)
class Article:
    number: int
    label: str  # 第八十一条
    chapter: str  # 第七章 法律责任, or 第四章 …／第二节 …
    text: str

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n\n")


@dataclass(frozen=True)
class Statute:
    title: str
    subtitle: str
    history: tuple[str, ...]
    articles: tuple[Article, ...]


@dataclass
class _Draft:
    """The article being read: its paragraphs, each a list of lines (the 款, then its 项)."""

    number: int
    chapter: str
    line: int
    paragraphs: list[list[str]] = field(default_factory=list)

    def article(self) -> Article:
        text = "\n\n".join("\n".join(lines) for lines in self.paragraphs)
        if not text:
            raise ValueError(f"line {self.line}: 第{from_int(self.number)}条 has no text")
        return Article(self.number, f"第{from_int(self.number)}条", self.chapter, text)


def clean(line: str) -> str:
    return line.strip().strip(INVISIBLE).strip()


def heading_text(text: str) -> str:
    """A chapter heading without its typographic spacing: ``第一章　总　　则`` → ``第一章 总则``."""
    text = clean(text)
    division = DIVISION.match(text)
    if division:
        name = re.sub(r"\s+", "", division.group(2))
        return f"{division.group(1)} {name}" if name else division.group(1)
    return re.sub(r"\s+", " ", text)


def strip_comments(text: str) -> str:
    """Drop HTML comments, keeping their line breaks so line numbers stay true."""
    return COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":  # YAML front matter: not part of the statute
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ValueError("line 1: the front matter (---) is not closed")
        lines[: end + 1] = [""] * (end + 1)
    return lines


def _split(lines: list[str]) -> int:
    """Index of the first body line: after ``<!-- INFO END -->``, or else at the first chapter
    heading or article."""
    for index, line in enumerate(lines):
        if INFO_END.search(line):
            return index + 1
    for index, line in enumerate(lines):
        heading = HEADING.match(clean(line))
        if (heading and len(heading.group(1)) > 1) or ARTICLE.match(clean(line)):
            return index
    return len(lines)


def _header(lines: list[str]) -> tuple[str, str, tuple[str, ...]]:
    titles: list[str] = []
    history: list[str] = []
    for number, raw in enumerate(strip_comments("\n".join(lines)).split("\n"), start=1):
        line = clean(raw)
        if not line:
            continue
        heading = HEADING.match(line)
        if heading:
            if len(titles) == 2:
                raise ValueError(f"line {number}: a third title ({line}) before the articles")
            titles.append(clean(heading.group(2)))
        elif HISTORY.match(line) or not history:
            history.append(line)
        else:  # a history line broken in two (土地管理法): join the pieces
            history[-1] += line
    if not titles or not titles[0]:
        raise ValueError("line 1: the file has no title (# 标题)")
    return titles[0], titles[1] if len(titles) > 1 else "", tuple(history)


def _number(text: str, line: int) -> int:
    try:
        return to_int(text)
    except ValueError:
        raise ValueError(f"line {line}: 第{text}条 is not a valid article number") from None


def _gap(last: int, number: int) -> str:
    found = f"第{from_int(number)}条" if 1 <= number <= MAX else f"第{number}条"
    if last == 0:
        return f"the first article is {found}, not 第一条"
    if number <= last:
        return f"{found} after 第{from_int(last)}条: article numbers must increase by one"
    return f"{found} after 第{from_int(last)}条: 第{from_int(last + 1)}条 is missing"


class _Body:
    """Reads the body line by line: the chapter path, and the articles with their paragraphs."""

    def __init__(self) -> None:
        self.headings: list[tuple[int, str]] = []
        self.articles: list[Article] = []
        self.draft: _Draft | None = None

    def read(self, line: str, number: int) -> None:
        heading = HEADING.match(line)
        if heading:
            self._heading(len(heading.group(1)), heading_text(heading.group(2)))
            return
        article = ARTICLE.match(line)
        if article:
            self._article(article, number)
        elif self.draft is None:
            raise ValueError(f"line {number}: text outside any article: {line[:40]}")
        elif ITEM.match(line) and self.draft.paragraphs:
            self.draft.paragraphs[-1].append(line)
        else:
            self.draft.paragraphs.append([line])

    def finish(self) -> tuple[Article, ...]:
        self._close()
        if not self.articles:
            raise ValueError("line 1: the file has no articles (第一条 …)")
        return tuple(self.articles)

    def _heading(self, level: int, text: str) -> None:
        self._close()
        self.headings = [h for h in self.headings if h[0] < level] + [(level, text)]

    def _article(self, match: re.Match[str], line: int) -> None:
        if match.group(2):
            raise ValueError(f"line {line}: articles numbered 第X条之Y are not supported")
        number = _number(match.group(1), line)
        last = self.draft.number if self.draft else self.articles[-1].number if self.articles else 0
        if number != last + 1:
            raise ValueError(f"line {line}: {_gap(last, number)}")
        self._close()
        chapter = CHAPTER_SEPARATOR.join(text for _, text in self.headings)
        self.draft = _Draft(number, chapter, line)
        rest = clean(match.group(3) or "")
        if rest:
            self.draft.paragraphs.append([rest])

    def _close(self) -> None:
        if self.draft is not None:
            self.articles.append(self.draft.article())
            self.draft = None


def parse(text: str) -> Statute:
    """The statute in ``text``; ``ValueError`` naming the line when it cannot be read."""
    lines = _lines(text)
    start = _split(lines)
    title, subtitle, history = _header(lines[:start])
    body_text = strip_comments("\n".join(lines[start:]))
    body = _Body()
    for offset, raw in enumerate(body_text.split("\n")):
        line = clean(raw)
        if line:
            body.read(line, start + offset + 1)
    return Statute(title, subtitle, history, body.finish())
