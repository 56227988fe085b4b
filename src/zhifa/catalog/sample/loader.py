"""Loading the shipped sample catalog: the statutes it cites, then its powers, benchmarks, check
items and checklists (``sample/catalog/*.csv``, in the import layout) into one district.

Sample data, to be verified against local rules before use: the citations and statutory ranges come
from the statute texts shipped beside it; the tiers follow the common tiering rule, not a real
bureau's benchmark. Loading is idempotent (the import is), and the caller commits.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from zhifa.catalog.exchange.importer import ImportReport, import_files
from zhifa.catalog.laws.service import law_service
from zhifa.catalog.service import Author

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"


def sample_files() -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(CATALOG_DIR.glob("*.csv"))]


def load_sample_catalog(session: Session, district_code: str) -> tuple[int, ImportReport]:
    """Import the sample statutes (national) and the sample catalog into ``district_code``;
    return how many statutes were new and the import report."""
    laws = law_service.load_sample(session)
    author = Author(officer_id=None, district_code=district_code, via="demo")
    return laws, import_files(session, author, sample_files())
