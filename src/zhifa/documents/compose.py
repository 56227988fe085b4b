"""What each document says (the fields), built from the submitted inspection, the task's present
officers, the party, the district's settings and the time of issue.

The result is plain JSON (strings, numbers, lists) and is exactly what the print templates show:
it is stored as ``Document.fields`` and carried by the ``document.issued`` ledger event, so the PDF
can be re-rendered byte for byte and anyone can read what was printed. Times are local
(Asia/Shanghai by default); money is written in figures and in capitals.

Legal content (行政处罚法 2021 unless named): the officers show their certificates and tell the
party their rights (arts. 44, 55); a 当场处罚决定书 states the act, the kind and basis of the
penalty, the amount, time, place, the remedies and the agency, and is filed (备案) with the agency
(art. 52); the fine is paid at a bank within 15 days (art. 67), collected on the spot only up to
100 yuan (art. 68, with the finance department's receipt, art. 70), with 3 % a day added when
late (art. 72), and is not suspended by a remedy (art. 73). Remedies: 行政复议 within 60 days
(行政复议法 art. 20) to the people's government of the agency's level (art. 24), 行政诉讼 within
6 months (行政诉讼法 art. 46).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from zhifa.catalog.assembly import AssembledChecklist, AssembledItem, AssembledPower
from zhifa.documents.schemas import PartyIn
from zhifa.errors import Conflict, InvalidInput
from zhifa.kit.clock import local
from zhifa.kit.money import amount_in_capitals, amount_in_figures
from zhifa.models.documents import DocumentType
from zhifa.models.inspections import AnswerResult, Measure
from zhifa.models.subjects import Subject, SubjectKind

TITLES = {
    DocumentType.INSPECTION_RECORD: "现场检查（勘验）笔录",
    DocumentType.RECTIFICATION_NOTICE: "责令（限期）改正通知书",
    DocumentType.ON_SPOT_PENALTY: "当场行政处罚决定书",
    DocumentType.SERVICE_RECEIPT: "送达回证",
}
RESULTS = {
    AnswerResult.PASS: "合格",
    AnswerResult.FAIL: "不合格",
    AnswerResult.NOT_APPLICABLE: "不适用",
}
ROLE_NAMES = {"party": "当事人", "officer": "执法人员", "witness": "见证人"}
SERVICE_METHODS = {
    "direct": "直接送达",
    "left": "留置送达",
    "entrusted": "委托送达",
    "mail": "邮寄送达",
    "electronic": "电子送达",
}
ON_SPOT_COLLECTION_MAX_FEN = 10_000  # 100 yuan, art. 68 (一)
PENALTY_LAW = "《中华人民共和国行政处罚法》"


@dataclass(frozen=True)
class Answer:
    """The current answer of one item (the latest amendment, else the submitted answer)."""

    item_code: str
    result: AnswerResult
    reason: str = ""
    note: str = ""
    measure: Measure = Measure.NONE
    power_code: str | None = None
    rectify_deadline: date | None = None
    penalty: dict[str, Any] | None = None


@dataclass(frozen=True)
class Officer:
    id: int
    name: str
    cert_no: str


@dataclass(frozen=True)
class Signer:
    role: str
    name: str
    officer_id: int | None = None
    image_sha256: str | None = None
    refused: bool = False
    refusal_reason: str = ""
    witness_name: str = ""


@dataclass(frozen=True)
class Served:
    title: str
    number: str


@dataclass(frozen=True)
class Sources:
    doc_type: DocumentType
    agency: str
    review_body: str  # the people's government that hears a 行政复议
    number_text: str
    verify_url: str
    issued_at: datetime  # UTC
    tz: ZoneInfo
    subject: Subject
    party: PartyIn | None
    party_type: str | None
    checklist: AssembledChecklist
    answers: dict[str, Answer]
    item_codes: list[str]
    officers: list[Officer]
    signers: list[Signer]
    inspected_from: datetime | None
    inspected_to: datetime | None
    summary: str = ""
    evidence_counts: dict[str, int] = field(default_factory=dict)
    served: list[Served] = field(default_factory=list)
    service_method: str = "direct"
    recipient: str = ""


def cn_date(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def cn_time(value: datetime, tz: ZoneInfo) -> str:
    moment = local(value, tz)
    return f"{cn_date(moment.date())}{moment.hour:02d}时{moment.minute:02d}分"


def mask_id(number: str) -> str:
    """``510184199001011234`` → ``5101**********1234`` (as subjects show it)."""
    number = number.strip().upper()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """A person's name as public pages show it: the surname and one star (张*)."""
    name = name.strip()
    return name[:1] + "*" if name else ""


def compose(src: Sources) -> dict[str, Any]:
    """The fields of the document ``src.doc_type``, as printed."""
    base = _common(src)
    builders = {
        DocumentType.INSPECTION_RECORD: _inspection_record,
        DocumentType.RECTIFICATION_NOTICE: _rectification_notice,
        DocumentType.ON_SPOT_PENALTY: _on_spot_penalty,
        DocumentType.SERVICE_RECEIPT: _service_receipt,
    }
    return base | builders[src.doc_type](src)


def _common(src: Sources) -> dict[str, Any]:
    return {
        "doc_type": str(src.doc_type),
        "title": TITLES[src.doc_type],
        "agency": src.agency,
        "number": src.number_text,
        "issued_at": src.issued_at.isoformat(),
        "date": cn_date(local(src.issued_at, src.tz).date()),
        "time": cn_time(src.issued_at, src.tz),
        "place": src.subject.address or src.subject.name,
        "party": party_fields(src.subject, src.party, src.party_type),
        "officers": [{"name": o.name, "cert_no": o.cert_no} for o in src.officers],
        "signatures": [_signature(s) for s in src.signers],
        "verify_url": src.verify_url,
    }


def party_kind(subject: Subject, party: PartyIn | None, party_type: str | None) -> str:
    """``person`` or ``organisation``: whose name is masked on public pages."""
    kind = SubjectKind(subject.kind)
    if kind is SubjectKind.PERSON:
        return "person"
    if kind is SubjectKind.SITE:
        stated_id = party is not None and bool(party.id_number)
        return "person" if party_type == "person" or stated_id else "organisation"
    return "organisation"


def party_fields(subject: Subject, party: PartyIn | None, party_type: str | None) -> dict[str, Any]:
    stated = party or PartyIn()
    kind = party_kind(subject, party, party_type)
    if stated.id_number:
        id_label, id_value = "身份证号码", mask_id(stated.id_number)
    elif subject.uscc:
        id_label, id_value = "统一社会信用代码", subject.uscc
    else:
        id_label, id_value = "身份证号码", subject.id_card_masked or ""
    return {
        "kind": kind,
        "kind_label": "个人" if kind == "person" else "单位",
        "name": stated.name or subject.name,
        "id_label": id_label,
        "id": id_value,
        "representative_label": "经营者"
        if subject.kind == SubjectKind.INDIVIDUAL_BUSINESS
        else "法定代表人（负责人）",
        "representative": stated.representative or subject.representative,
        "address": stated.address or subject.address,
        "phone": stated.phone or subject.phone,
    }


def _signature(signer: Signer) -> dict[str, Any]:
    return {
        "role": signer.role,
        "role_label": ROLE_NAMES[signer.role],
        "name": signer.name,
        "image_sha256": signer.image_sha256,
        "refused": signer.refused,
        "refusal_reason": signer.refusal_reason,
        "witness_name": signer.witness_name,
    }


def _officer_names(src: Sources) -> str:
    return "、".join(f"{o.name}（执法证号：{o.cert_no}）" for o in src.officers)


def _items(src: Sources) -> dict[str, AssembledItem]:
    return {item.code: item for item in src.checklist.items}


def _power(item: AssembledItem, answer: Answer) -> AssembledPower | None:
    return next((p for p in item.powers if p.code == answer.power_code), None)


def _citations(power: AssembledPower | None, role: str) -> list[dict[str, str]]:
    if power is None:
        return []
    return [{"label": c.label, "text": c.text} for c in power.citations if c.role == role]


def _labels(citations: list[dict[str, str]]) -> str:
    return "、".join(dict.fromkeys(c["label"] for c in citations))


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in "。！？；.!?" else text + "。"


def _remedies(src: Sources, what: str) -> str:
    return (
        f"当事人如不服本{what}，可以自收到本{what}之日起六十日内向{src.review_body}申请行政复议，"
        f"或者自收到本{what}之日起六个月内依法向人民法院提起行政诉讼"
        "（《中华人民共和国行政复议法》第二十条、《中华人民共和国行政诉讼法》第四十六条）。"
    )


def _rights_notice(src: Sources) -> str:
    return (
        f"执法人员{_officer_names(src)}已向当事人出示执法证件，表明身份，"
        "告知当事人依法享有陈述、申辩的权利和申请回避的权利，"
        "并告知当事人应当如实回答询问、协助检查，不得拒绝或者阻挠"
        f"（{PENALTY_LAW}第四十三条、第五十五条）。"
    )


def _inspection_record(src: Sources) -> dict[str, Any]:
    items = []
    findings = []
    for number, item in enumerate(src.checklist.items, start=1):
        answer = src.answers.get(item.code)
        result = answer.result if answer is not None else None
        note = (answer.reason or answer.note) if answer is not None else ""
        items.append(
            {
                "no": number,
                "code": item.code,
                "text": item.text,
                "result": RESULTS[result] if result is not None else "未检查",
                "note": note,
            }
        )
        if answer is not None and result is AnswerResult.FAIL:
            findings.append(f"{item.text}：{_sentence(answer.reason)}")
    return {
        "span": _span(src),
        "notice": _rights_notice(src),
        "items": items,
        "findings": findings,
        "evidence": _evidence_text(src.evidence_counts),
        "summary": src.summary,
        "confirmation": "以上笔录已交当事人阅读（或者向当事人宣读），当事人确认与现场情况相符。",
    }


def _span(src: Sources) -> str:
    start = src.inspected_from or src.issued_at
    end = src.inspected_to or src.issued_at
    begin, finish = local(start, src.tz), local(end, src.tz)
    if begin.date() == finish.date():
        return f"{cn_time(start, src.tz)}至{finish.hour:02d}时{finish.minute:02d}分"
    return f"{cn_time(start, src.tz)}至{cn_time(end, src.tz)}"


def _evidence_text(counts: dict[str, int]) -> str:
    parts = [
        f"{label}{counts[kind]}{unit}"
        for kind, label, unit in (
            ("photo", "照片", "张"),
            ("video", "录像", "段"),
            ("audio", "录音", "段"),
        )
        if counts.get(kind)
    ]
    return "现场取得" + "、".join(parts) + "。" if parts else "无。"


def _failed(src: Sources, code: str, measure: Measure) -> tuple[AssembledItem, Answer]:
    item = _items(src).get(code)
    answer = src.answers.get(code)
    if item is None or answer is None or answer.result is not AnswerResult.FAIL:
        raise InvalidInput(
            "Item {code} is not a non-compliant answer of this inspection.",
            detail={"field": "item_codes", "item_code": code},
            error_code="item_not_failed",
            code=code,
        )
    if answer.measure is not measure:
        raise InvalidInput(
            "Item {code} was not answered with the measure this document carries out.",
            detail={"field": "item_codes", "item_code": code, "measure": str(answer.measure)},
            error_code="item_measure_mismatch",
            code=code,
        )
    return item, answer


def _rectification_notice(src: Sources) -> dict[str, Any]:
    findings, violated, penalties = [], [], []
    for number, code in enumerate(src.item_codes, start=1):
        item, answer = _failed(src, code, Measure.RECTIFY)
        power = _power(item, answer)
        basis = _citations(power, "violated")
        violated += basis
        penalties += _citations(power, "penalty")
        deadline = cn_date(answer.rectify_deadline) if answer.rectify_deadline else ""
        findings.append(
            {
                "no": number,
                "item": item.text,
                "finding": _sentence(answer.reason),
                "violated": _labels(basis),
                "deadline": deadline,
                "order": f"限于{deadline}前改正。" if deadline else "立即改正。",
            }
        )
    consequence = (
        f"逾期不改正的，本机关将依照{_labels(penalties)}的规定依法处理。"
        if penalties
        else "逾期不改正的，本机关将依法处理。"
    )
    return {
        "findings": findings,
        "basis": _unique(violated),
        "order": "现责令你（单位）按下列期限改正上述违法行为，并将改正情况及时告知本机关：",
        "consequence": consequence,
        "remedies": _remedies(src, "通知书"),
    }


def _unique(citations: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for citation in citations:
        seen.setdefault(citation["label"], citation)
    return list(seen.values())


def penalty_amount(penalty: dict[str, Any] | None) -> int | None:
    """The amount decided on site, in fen, from the answer's penalty record."""
    if not penalty:
        return None
    chosen = penalty.get("chosen")
    candidates = [
        penalty.get("amount_fen"),
        chosen.get("chosen_fen") if isinstance(chosen, dict) else None,
        penalty.get("chosen_fen"),
        penalty.get("recommended_fen"),
    ]
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _act(item: AssembledItem, power: AssembledPower | None, answer: Answer) -> str:
    """The act as the decision names it: the power's name without 对…的处罚, else the item."""
    recorded = (answer.penalty or {}).get("power_name")
    name = str(recorded) if recorded else (power.name if power is not None else "")
    if name.startswith("对") and name.endswith("的处罚"):
        return name[1:-3]
    return name or item.text


def _on_spot_penalty(src: Sources) -> dict[str, Any]:
    if len(src.item_codes) != 1:
        raise InvalidInput(
            "An on-the-spot penalty decision covers exactly one act; issue one per item.",
            detail={"field": "item_codes"},
            error_code="one_act_per_decision",
        )
    item, answer = _failed(src, src.item_codes[0], Measure.ON_SPOT_PENALTY)
    power = _power(item, answer)
    amount = _decided_amount(item, answer)
    violated, basis = _basis(power, answer)
    kind = "罚款" if amount else "警告"
    return {
        "item_code": item.code,
        "act": _act(item, power, answer),
        "facts": _facts(src, answer),
        "violated": violated,
        "penalty_basis": basis,
        "penalty_kind": kind,
        "amount_fen": amount,
        "amount_figures": amount_in_figures(amount),
        "amount_capitals": "人民币" + amount_in_capitals(amount),
        "decision": _decision(kind, amount, violated, basis),
        "notice": _rights_notice(src)
        + "执法人员已告知当事人拟作出的行政处罚内容及事实、理由、依据（第四十四条）。",
        "payment": _payment(amount),
        "on_spot_collection": _collection(amount),
        "remedies": _remedies(src, "决定书")
        + "申请行政复议或者提起行政诉讼的，行政处罚不停止执行，法律另有规定的除外（"
        + PENALTY_LAW
        + "第七十三条）。",
        "filing": (
            f"本决定由执法人员当场作出，依法报{src.agency}备案（{PENALTY_LAW}第五十二条第三款）。"
        ),
    }


def _decided_amount(item: AssembledItem, answer: Answer) -> int:
    """The amount the inspection decided, within the simple-procedure cap it recorded."""
    amount = penalty_amount(answer.penalty)
    if amount is None:
        raise Conflict(
            "The inspection recorded no penalty amount for item {code}.",
            detail={"field": "item_codes", "item_code": item.code},
            error_code="no_penalty_amount",
            code=item.code,
        )
    cap = (answer.penalty or {}).get("simple_procedure_cap_fen")
    if isinstance(cap, int) and amount > cap:
        raise Conflict(
            "The fine for item {code} is above the on-the-spot limit (art. 51); it needs the "
            "ordinary procedure.",
            detail={"field": "item_codes", "item_code": item.code, "cap_fen": cap},
            error_code="above_simple_procedure_cap",
            code=item.code,
        )
    return amount


def _basis(
    power: AssembledPower | None, answer: Answer
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The provisions violated and the penalty provisions: as the discretion engine applied them
    on the act date (recorded with the penalty), else the checklist power's citations."""
    recorded = (answer.penalty or {}).get("citations")
    if isinstance(recorded, list) and recorded:

        def of(role: str) -> list[dict[str, str]]:
            return [
                {"label": str(c.get("label", "")), "text": str(c.get("text", ""))}
                for c in recorded
                if isinstance(c, dict) and c.get("role") == role
            ]

        return of("violated"), of("penalty")
    return _citations(power, "violated"), _citations(power, "penalty")


def _facts(src: Sources, answer: Answer) -> str:
    moment = src.inspected_from or src.issued_at
    return (
        f"{cn_time(moment, src.tz)}，本机关执法人员在{src.subject.address or src.subject.name}"
        f"依法检查时发现：{_sentence(answer.reason)}"
    )


def _decision(
    kind: str, amount: int, violated: list[dict[str, str]], basis: list[dict[str, str]]
) -> str:
    broke = f"当事人的上述行为违反了{_labels(violated)}的规定。" if violated else ""
    by = f"依据{_labels(basis)}的规定，" if basis else ""
    if kind == "警告":
        return f"{broke}{by}决定给予当事人警告的行政处罚。"
    return (
        f"{broke}{by}决定给予当事人罚款人民币{amount_in_capitals(amount)}"
        f"（{amount_in_figures(amount)}）的行政处罚。"
    )


def _payment(amount: int) -> str:
    if not amount:
        return ""
    return (
        "当事人应当自收到本决定书之日起十五日内，到指定的银行或者通过电子支付系统缴纳罚款"
        f"（{PENALTY_LAW}第六十七条）。到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款，"
        "加处罚款的数额不得超出罚款的数额（第七十二条）。"
    )


def _collection(amount: int) -> str:
    if not 0 < amount <= ON_SPOT_COLLECTION_MAX_FEN:
        return ""
    return (
        "本罚款在一百元以下，执法人员可以当场收缴，并当场出具财政部门统一制发的专用票据；"
        f"不出具专用票据的，当事人有权拒绝缴纳（{PENALTY_LAW}第六十八条、第七十条）。"
    )


def _service_receipt(src: Sources) -> dict[str, Any]:
    party = party_fields(src.subject, src.party, src.party_type)
    return {
        "served": [{"title": s.title, "number": s.number} for s in src.served],
        "recipient": src.recipient or party["name"],
        "method": SERVICE_METHODS[src.service_method],
        "service_time": cn_time(src.issued_at, src.tz),
        "service_place": src.subject.address or src.subject.name,
        "left_note": (
            "受送达人拒绝签收，执法人员已将文书留置于受送达人住所，并记明拒收事由和日期。"
            if src.service_method == "left"
            else ""
        ),
    }
