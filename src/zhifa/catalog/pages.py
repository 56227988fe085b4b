"""HTML pages of the catalog: the power list (权力清单) with search, a power with its legal texts,
benchmark table and version history, the legal library (法律法规库), check items and checklists
(巡查清单), the fine calculator (裁量计算器) and the published benchmarks (裁量基准公示).

Thin: read through ``catalog.browse``, ``catalog.assembly``, ``catalog.laws.service`` and the
discretion engine, shape what people read (money in yuan, formulas written out), render. Every page
reads the catalog as on a date, today (Asia/Shanghai) by default. The editing forms and the
import/export page are in ``catalog.admin_pages``; this router includes them first, so their fixed
paths (``/catalog/powers/new``) win over the ``{code}`` routes here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from zhifa.catalog import assembly, browse, versions
from zhifa.catalog import repository as repo
from zhifa.catalog.admin_pages import router as admin_router
from zhifa.catalog.auth import CatalogRead
from zhifa.catalog.calculator_pages import router as calculator_router
from zhifa.catalog.laws.service import law_service
from zhifa.catalog.presenters import (
    LABELS,
    PAGE_SIZE,
    PageNumber,
    Pager,
    Search,
    benchmark_table,
    catalog_context,
    citation_views,
    day,
    is_fragment,
    officer_names,
    shows_sample_banner,
    translator,
)
from zhifa.catalog.schemas import PowerSummary
from zhifa.errors import NotFound
from zhifa.kit.clock import today_local
from zhifa.models.catalog import LawKind, PowerKind, PowerStatus
from zhifa.org.auth import DbSession
from zhifa.web.templating import render

router = APIRouter(include_in_schema=False)
# First: their fixed paths (/catalog/powers/new, /catalog/calculator) win over {code} routes.
router.include_router(admin_router)
router.include_router(calculator_router)


# ---- the power list -------------------------------------------------------------------------


@router.get("/catalog")
def show_catalog(
    request: Request,
    session: DbSession,
    actor: CatalogRead,
    q: Search = "",
    department: Search = "",
    kind: Search = "",
    page: PageNumber = 1,
) -> Response:
    """The power list in force today, searchable; htmx asks for the results only."""
    chosen = PowerKind(kind) if kind in {k.value for k in PowerKind} else None
    criteria = {"q": q, "department": department, "kind": chosen.value if chosen else ""}
    pager = Pager(page, PAGE_SIZE, 0)
    found = browse.power_page(
        session,
        actor.district_code,
        on=today_local(),
        q=q,
        department=department or None,
        kind=chosen,
        limit=PAGE_SIZE,
        offset=pager.offset,
    )
    ctx = catalog_context(
        session,
        actor,
        powers=found.items,
        pager=Pager(page, PAGE_SIZE, found.total, "/catalog", criteria),
        criteria=criteria,
        departments=repo.departments(session, actor.district_code),
        kinds=list(PowerKind),
        tab="powers",
    )
    if is_fragment(request, "power-results"):
        return render(request, "catalog/_power_results.html", ctx)
    return render(request, "catalog/index.html", ctx)


@router.get("/catalog/powers/{code}")
def show_power(
    request: Request, session: DbSession, actor: CatalogRead, code: str, on: Search = ""
) -> Response:
    """A power with its legal texts in force on the date, its benchmark and its history."""
    when = day(on)
    detail = browse.power_detail(session, actor.district_code, code, on=when)
    t = translator(request)
    departments = {d.id: d.name for d in repo.departments(session, actor.district_code)}
    recorded = [v.recorded_by_id for v in (*detail.versions, *detail.benchmark_versions)]
    unit_code = detail.responsibility.get("unit_code")
    unit = repo.unit_by_code(session, actor.district_code, unit_code) if unit_code else None
    in_force = versions.in_force(detail.versions, when)
    bench_in_force = detail.benchmark
    ctx = catalog_context(
        session,
        actor,
        detail=detail,
        power=detail.current,
        on=when,
        citations=citation_views(session, detail.citations),
        unit_name=unit.name if unit is not None else "",
        table=benchmark_table(t, detail.benchmark.spec) if detail.benchmark else None,
        departments=departments,
        names=officer_names(session, recorded),
        version_in_force=in_force.version if in_force else None,
        benchmark_in_force=bench_in_force.version if bench_in_force else None,
        can_calculate=_can_calculate(detail.current, detail.benchmark is not None),
        tab="powers",
    )
    return render(request, "catalog/power.html", ctx)


def _can_calculate(power: PowerSummary | None, has_benchmark: bool) -> bool:
    return (
        power is not None
        and has_benchmark
        and power.kind is PowerKind.PENALTY
        and power.status is PowerStatus.ACTIVE
    )


# ---- the legal library ----------------------------------------------------------------------


@router.get("/catalog/laws")
def show_laws(
    request: Request,
    session: DbSession,
    actor: CatalogRead,
    q: Search = "",
    kind: Search = "",
    pq: Search = "",
    page: PageNumber = 1,
) -> Response:
    """Legal documents by title, and a search of the articles' texts (``pq``)."""
    chosen = LawKind(kind) if kind in {k.value for k in LawKind} else None
    criteria = {"q": q, "kind": chosen.value if chosen else "", "pq": pq}
    pager = Pager(page, PAGE_SIZE, 0)
    documents = law_service.list_documents(
        session, query=q, kind=chosen, limit=PAGE_SIZE, offset=pager.offset
    )
    provisions = law_service.search_provisions(session, query=pq, limit=PAGE_SIZE) if pq else None
    titles = (
        law_service.titles(session, [p.document_id for p in provisions.rows]) if provisions else {}
    )
    ctx = catalog_context(
        session,
        actor,
        documents=documents.rows,
        pager=Pager(page, PAGE_SIZE, documents.total, "/catalog/laws", criteria),
        provisions=provisions,
        titles=titles,
        criteria=criteria,
        law_kinds=list(LawKind),
        tab="laws",
    )
    return render(request, "catalog/laws.html", ctx)


@router.get("/catalog/laws/{document_id}")
def show_law(
    request: Request, session: DbSession, actor: CatalogRead, document_id: int, q: Search = ""
) -> Response:
    """One legal document with its chapters and articles; each article has the anchor ``#a<N>``."""
    document = law_service.get_document(session, document_id=document_id)
    articles = law_service.provisions(session, document_id=document.id)
    chapters: list[tuple[str, list[Any]]] = []
    for article in articles:
        if not chapters or chapters[-1][0] != article.chapter:
            chapters.append((article.chapter, []))
        chapters[-1][1].append(article)
    hits = (
        law_service.search_provisions(session, query=q, document_id=document.id, limit=200).rows
        if q
        else []
    )
    ctx = catalog_context(
        session,
        actor,
        document=document,
        chapters=chapters,
        history=[line for line in document.history.split("\n") if line],
        hits=hits,
        q=q,
        tab="laws",
    )
    return render(request, "catalog/law.html", ctx)


# ---- check items and checklists -------------------------------------------------------------


@router.get("/catalog/check-items")
def show_check_items(
    request: Request, session: DbSession, actor: CatalogRead, q: Search = ""
) -> Response:
    """The check items (检查事项) in force today, searchable."""
    items = browse.check_items(session, actor.district_code, on=today_local(), q=q)
    ctx = catalog_context(session, actor, items=items, q=q, tab="check_items")
    if is_fragment(request, "item-results"):
        return render(request, "catalog/_item_results.html", ctx)
    return render(request, "catalog/check_items.html", ctx)


@router.get("/catalog/checklists")
def show_checklists(request: Request, session: DbSession, actor: CatalogRead) -> Response:
    """The checklist templates (巡查清单) in force today, and the subject types they serve."""
    lists = browse.checklists(session, actor.district_code, on=today_local())
    ctx = catalog_context(
        session,
        actor,
        checklists=lists,
        subject_types=repo.subject_types(session, actor.district_code),
        tab="checklists",
    )
    return render(request, "catalog/checklists.html", ctx)


@router.get("/catalog/checklists/{code}")
def show_checklist(
    request: Request, session: DbSession, actor: CatalogRead, code: str, on: Search = ""
) -> Response:
    """One checklist template with its items in order and its versions."""
    when = day(on)
    checklist = browse.checklist_detail(session, actor.district_code, code, on=when)
    by_code = {i.code: i for i in browse.check_items(session, actor.district_code, on=when)}
    ctx = catalog_context(
        session,
        actor,
        checklist=checklist,
        items=[by_code[c] for c in checklist.item_codes if c in by_code],
        names=officer_names(session, (v.recorded_by_id for v in checklist.versions)),
        on=when,
        tab="checklists",
    )
    return render(request, "catalog/checklist.html", ctx)


@router.get("/catalog/subject-types/{code}")
def show_subject_type(
    request: Request, session: DbSession, actor: CatalogRead, code: str, on: Search = ""
) -> Response:
    """The merged checklist of a subject type as the officer gets it on site, with legal bases."""
    when = day(on)
    merged = assembly.for_subject_type(session, actor.district_code, code, on=when)
    cited = [c for item in merged.items for p in item.powers for c in p.citations]
    texts = browse.load_texts(session, (c.provision_id for c in cited))
    anchors = {
        pid: f"/catalog/laws/{p.document_id}#a{p.article}" for pid, p in texts.provisions.items()
    }
    ctx = catalog_context(session, actor, merged=merged, anchors=anchors, on=when, tab="checklists")
    return render(request, "catalog/subject_type.html", ctx)


# ---- the published benchmarks (public) -------------------------------------------------------


@router.get("/public/benchmarks/{district_code}")
def show_public_benchmarks(request: Request, session: DbSession, district_code: str) -> Response:
    """Every penalty power of the district with its discretion benchmark in force today.

    Public on purpose, with no login: 行政处罚法 art. 34 requires discretion benchmarks to be
    published. It shows only what the district publishes anyway (the power list and benchmarks),
    never who recorded them."""
    district = repo.active_district(session, district_code)
    if district is None:
        raise NotFound(
            "District {code} does not exist.", detail={"field": "district_code"}, code=district_code
        )
    today = today_local()
    t = translator(request)
    pairs = [
        (p, v)
        for p, v in repo.power_versions_in_force(session, district_code, today)
        if v.kind == PowerKind.PENALTY and v.status == PowerStatus.ACTIVE
    ]
    texts = browse.load_texts(session, (c["provision_id"] for _, v in pairs for c in v.citations))
    departments = {d.id: d.name for d in repo.departments(session, district_code)}
    benchmarks = repo.benchmark_versions_of(session, [p.id for p, _ in pairs])
    entries = []
    for power, version in pairs:
        benchmark = versions.in_force(benchmarks.get(power.id, []), today)
        entries.append(
            {
                "code": power.code,
                "name": version.name,
                "department": departments.get(version.department_id, ""),
                "penalty_text": version.penalty_text,
                "citations": browse.citation_reads(texts, version.citations, today),
                "benchmark": benchmark,
                "table": benchmark_table(t, benchmark.spec) if benchmark else None,
            }
        )
    ctx = {
        "district": district,
        "entries": entries,
        "on": today,
        "labels": LABELS,
        "sample_banner": shows_sample_banner(session, district_code, fictional=district.fictional),
    }
    return render(request, "catalog/public_benchmarks.html", ctx)
