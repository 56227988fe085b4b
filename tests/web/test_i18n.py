"""The zh_CN catalog covers every message a user can read, and no message is defined twice.

Messages are found the way a translator's tool finds them: gettext calls in the templates (Jinja's
babel extractor), and in Python the ``_``/``N_`` calls, the first argument of every error class
(``raise Conflict("...")``), navigation labels (``NavItem("...")``) and the ``label`` of every enum.
"""

from __future__ import annotations

import ast
import enum
import importlib
import pkgutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import jinja2.ext
from babel.messages.extract import extract

import zhifa
from zhifa.errors import AppError
from zhifa.web.i18n import LOCALE_DIR, catalog
from zhifa.web.templating import TEMPLATE_DIR

SRC = Path(zhifa.__file__).resolve().parent

Found = dict[str, list[str]]  # msgid → where it was found


def _import_all() -> None:
    for module in pkgutil.walk_packages([str(SRC)], prefix="zhifa."):
        importlib.import_module(module.name)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _keywords() -> dict[str, tuple[int, ...] | None]:
    _import_all()
    errors = {cls.__name__ for cls in (AppError, *_subclasses(AppError))}
    calls: dict[str, tuple[int, ...] | None] = {"_": None, "N_": None, "gettext": None}
    # Problems of an import file carry their message like errors do (CellError's first argument,
    # RowProblem's fourth: sheet, row, column, message).
    carriers = {"CellError": None, "RowProblem": (4,)}
    return calls | {"ngettext": (1, 2), "NavItem": None} | dict.fromkeys(errors) | carriers


def _add(found: Found, message: str | tuple[str, ...], where: str) -> None:
    for text in (message,) if isinstance(message, str) else message:
        if text:
            found[text].append(where)


def _from_templates(found: Found) -> None:
    for path in sorted(TEMPLATE_DIR.rglob("*.html")):
        with path.open("rb") as fh:
            for lineno, message, _comments, _context in extract(jinja2.ext.babel_extract, fh):
                _add(found, message, f"{path.relative_to(SRC)}:{lineno}")


def _from_python(found: Found, keywords: dict[str, tuple[int, ...] | None]) -> None:
    for path in sorted(SRC.rglob("*.py")):
        with path.open("rb") as fh:
            for lineno, message, _comments, _context in extract("python", fh, keywords):
                _add(found, message, f"{path.relative_to(SRC)}:{lineno}")


def _enum_labels(found: Found) -> None:
    enums = {cls for cls in _subclasses(enum.Enum) if cls.__module__.startswith("zhifa.")}
    for cls in sorted(enums, key=lambda c: c.__qualname__):
        for member in cls:
            label = getattr(member, "label", None)
            if isinstance(label, str):
                _add(found, label, f"{cls.__module__}.{cls.__qualname__}.{member.name}")


def _messages() -> Found:
    found: Found = defaultdict(list)
    keywords = _keywords()
    _from_templates(found)
    _from_python(found, keywords)
    _enum_labels(found)
    return found


def _po_msgids(path: Path) -> list[str]:
    """Every msgid of a .po file, in order, including repeated ones (which readers merge)."""
    ids: list[str] = []
    current: list[str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("msgid "):
            current = [ast.literal_eval(line[6:])]
            ids.append("")
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        else:
            current = None
            continue
        ids[-1] = "".join(current)
    return [i for i in ids if i]


class TestCatalogCoverage:
    def test_the_extractors_find_the_known_messages(self) -> None:
        found = _messages()

        assert "Log out" in found  # layout.html
        assert "Home" in found  # NavItem
        assert "System admin" in found  # Role.label

    def test_every_message_has_a_chinese_translation(self) -> None:
        zh = catalog("zh_CN")
        missing = {msgid: where for msgid, where in _messages().items() if msgid not in zh}

        for msgid, where in sorted(missing.items()):
            print(f"missing zh_CN: {msgid!r}  ({', '.join(where[:3])})")  # noqa: T201
        assert missing == {}, f"{len(missing)} messages lack a zh_CN translation (printed above)"


class TestPoFiles:
    def test_no_msgid_is_defined_twice(self) -> None:
        owners: dict[str, list[str]] = defaultdict(list)
        for path in sorted((LOCALE_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po")):
            for msgid in _po_msgids(path):
                owners[msgid].append(path.name)

        duplicates = {msgid: files for msgid, files in owners.items() if len(files) > 1}
        assert duplicates == {}
