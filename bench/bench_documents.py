"""PDF rendering of the four on-site documents against a bare one-page CJK render.

Usage: ``python bench/bench_documents.py [--quick]`` (``--quick``: 8 renders per case, not 30).

Each document is composed once (``documents.compose``) from a realistic inspection — a 17-item
joint checklist with two findings, citations with their provision texts, the party, two officers
and three signature images — and then rendered again and again (``documents.render.render_pdf``:
Jinja2 print template → WeasyPrint A4 PDF with the Noto CJK fonts subset and embedded, the QR
code inline). The baseline is the bare render of one CJK paragraph with the same stylesheet
(``render.bare_pdf``), measured in the same run. No database is involved: this is the cost an
issue adds on top of its queries.

It prints the median and p95 per case in ms, the ratio of the median to the baseline's, and
whether the median meets the goal of ≤ 150 ms (nothing is asserted).
"""

from __future__ import annotations

import hashlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw
from pypdf import PdfReader

from zhifa.catalog.assembly import AssembledChecklist
from zhifa.documents import compose, render
from zhifa.kit.clock import SHANGHAI
from zhifa.models.documents import DocumentType
from zhifa.models.inspections import AnswerResult, Measure
from zhifa.models.subjects import Subject, SubjectKind

QUICK = "--quick" in sys.argv
ROUNDS = 8 if QUICK else 30
GOAL_MS = 150.0
ISSUED = datetime(2026, 11, 29, 2, 21, tzinfo=UTC)
VIOLATED = (
    "建设单位应当采取施工工地周边围挡、物料堆放覆盖、土方开挖湿法作业、路面硬化、出入车辆清洗、渣土车辆密闭运输等防尘降尘措施。"
    * 2
)
PENALTY = (
    "违反本法规定，施工单位有下列行为之一的，由县级以上人民政府住房城乡建设等有关部门按照职责"
    "责令改正，处一万元以上十万元以下的罚款；拒不改正的，责令停工整治。"
)


def _signature(seed: int) -> bytes:
    image = Image.new("RGBA", (480, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = [(20 + 40 * i, 80 + (seed * 17 + i * 37) % 60 - 30) for i in range(11)]
    draw.line(points, fill="black", width=6)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _power(n: int) -> dict[str, Any]:
    citation = {
        "provision_id": n,
        "paragraph": 0,
        "item": 0,
        "title": "中华人民共和国大气污染防治法",
    }
    return {
        "code": f"P-{n:02d}",
        "name": f"对施工工地未采取第{n}项扬尘防治措施的处罚",
        "kind": "penalty",
        "version": 1,
        "penalty_text": "处一万元以上十万元以下的罚款",
        "citations": [
            citation
            | {
                "role": "violated",
                "label": "《中华人民共和国大气污染防治法》第六十九条",
                "text": VIOLATED,
            },
            citation
            | {
                "role": "penalty",
                "label": "《中华人民共和国大气污染防治法》第一百一十五条",
                "text": PENALTY,
            },
        ],
    }


def _checklist() -> AssembledChecklist:
    items = [
        {
            "code": f"JZGD-{n:02d}",
            "version": 1,
            "text": f"施工现场第{n}项扬尘防治措施是否落实到位（围挡、覆盖、冲洗、硬化、湿法作业）",
            "guidance": "",
            "evidence": [],
            "department_code": "zhujian" if n % 2 else "chengguan",
            "department_name": "住建" if n % 2 else "城管",
            "checklists": ["QD-JZGD"],
            "powers": [_power(n)],
        }
        for n in range(1, 18)
    ]
    return AssembledChecklist.model_validate(
        {
            "subject_type": "construction_site",
            "subject_type_name": "建筑工地",
            "on": date(2026, 11, 29),
            "templates": [],
            "joint": True,
            "departments": ["住建", "城管"],
            "items": items,
        }
    )


def _answers() -> dict[str, compose.Answer]:
    answers = {
        f"JZGD-{n:02d}": compose.Answer(f"JZGD-{n:02d}", AnswerResult.PASS) for n in range(1, 18)
    }
    answers["JZGD-05"] = compose.Answer("JZGD-05", AnswerResult.NOT_APPLICABLE, "本工地无土方作业")
    answers["JZGD-07"] = compose.Answer(
        "JZGD-07",
        AnswerResult.FAIL,
        "工地出入口未设置车辆冲洗设施，驶出车辆带泥上路",
        measure=Measure.RECTIFY,
        power_code="P-07",
        rectify_deadline=date(2026, 12, 6),
    )
    answers["JZGD-09"] = compose.Answer(
        "JZGD-09",
        AnswerResult.FAIL,
        "裸露土方约 300 平方米未覆盖",
        measure=Measure.ON_SPOT_PENALTY,
        power_code="P-09",
        penalty={"amount_fen": 200_000, "party_type": "organisation"},
    )
    return answers


def sources(doc_type: DocumentType, images: dict[str, bytes]) -> compose.Sources:
    subject = Subject(
        kind=SubjectKind.ENTERPRISE,
        name="四川省崇州市某某建设工程有限公司（蜀州中路安置房项目）",
        uscc="91510184MA6CXXXX00",
        representative="陈强",
        phone="028-82000000",
        address="崇州市崇阳街道蜀州中路 188 号安置房项目工地",
    )
    digests = list(images)
    signers = [
        compose.Signer("party", "陈强", image_sha256=digests[0]),
        compose.Signer("officer", "李明", officer_id=1, image_sha256=digests[1]),
        compose.Signer("officer", "王芳", officer_id=2, image_sha256=digests[2]),
    ]
    items = {
        DocumentType.RECTIFICATION_NOTICE: ["JZGD-07"],
        DocumentType.ON_SPOT_PENALTY: ["JZGD-09"],
    }.get(doc_type, [])
    return compose.Sources(
        doc_type=doc_type,
        agency="崇州市（演示）综合行政执法局",
        review_body="崇州市（演示）人民政府",
        number_text=f"崇综执{compose.TITLES[doc_type][:1]}字〔2026〕第12号",
        verify_url="http://127.0.0.1:8000/verify/Zq3x9mB1sT7kPq2LwX4yAa",
        issued_at=ISSUED,
        tz=SHANGHAI,
        subject=subject,
        party=None,
        party_type="organisation",
        checklist=_checklist(),
        answers=_answers(),
        item_codes=items,
        officers=[
            compose.Officer(1, "李明", "51018400001"),
            compose.Officer(2, "王芳", "51018400002"),
        ],
        signers=signers,
        inspected_from=ISSUED - timedelta(minutes=50),
        inspected_to=ISSUED - timedelta(minutes=5),
        summary="现场检查发现车辆冲洗设施缺失、裸土未覆盖，已责令改正并当场处罚。",
        evidence_counts={"photo": 6, "video": 1},
        served=[
            compose.Served("现场检查（勘验）笔录", "崇综执检字〔2026〕第12号"),
            compose.Served("当场行政处罚决定书", "崇综执罚当字〔2026〕第12号"),
        ],
    )


def sample(operation: Callable[[], bytes]) -> list[float]:
    operation()  # warm-up: fonts loaded, templates compiled
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        operation()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    pngs = [_signature(seed) for seed in range(3)]
    images = {hashlib.sha256(p).hexdigest(): p for p in pngs}
    paragraph = (
        "执法人员应当全面、客观、公正地调查，收集有关证据；必要时，依照法律、法规的规定，可以进行检查。"
        * 6
    )
    results = [
        ("bare one-page CJK render (baseline)", sample(lambda: render.bare_pdf(paragraph)), 0)
    ]
    for doc_type in DocumentType:
        fields = compose.compose(sources(doc_type, images))
        pdf = render.render_pdf(fields, images)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        results.append(
            (doc_type.value, sample(lambda f=fields: render.render_pdf(f, images)), pages)
        )
    base = statistics.median(results[0][1])
    print(f"\nPDF rendering, {ROUNDS} renders per case (WeasyPrint, Noto CJK subset)")
    header = f"{'case':<38} {'pages':>5} {'median':>9} {'p95':>9} {'× baseline':>10}"
    print(f"{header}  goal ≤ {GOAL_MS:.0f} ms")
    for name, times, pages in results:
        median = statistics.median(times)
        verdict = "" if name.startswith("bare") else ("yes" if median <= GOAL_MS else "NO")
        print(
            f"{name:<38} {pages or '':>5} {median:>7.1f}ms {p95(times):>7.1f}ms "
            f"{median / base:>10.2f}  {verdict}"
        )


if __name__ == "__main__":
    main()
