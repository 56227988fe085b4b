"""The task bundle (``GET /api/v1/tasks/{id}``): everything the officer's device needs offline.

- ``checklist``: the ``AssembledChecklist`` JSON frozen in the inspection once it exists, else
  assembled for today (local) from the catalog; ``checklist_sha256`` is the SHA-256 of its RFC 8785
  JSON (what the submission must echo back).
- ``quotes``: for every power of the checklist's items, the discretion engine's result for the
  subject's party type with no facts and no circumstances, act date today; ``evaluation`` is null
  (with a ``reason``) when the benchmark needs facts, when there is no benchmark, or when the
  party type is unknown (a bare site) or not one the power applies to.
  When the benchmark needs facts, ``offline`` carries what the app's ``fine.js`` needs to compute
  the same figure on the device (``offline_payload``); it is null when the path cannot be mirrored.
- ``simple_procedure_caps``: the art. 51 caps of the district's discretion policy in force today.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zhifa.catalog import assembly
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.schemas import EvaluationIn, present
from zhifa.catalog.policy import DEFAULT_POLICY, PolicySpec
from zhifa.catalog.snapshot import snapshot_for
from zhifa.catalog.spec import FormulaKind, PartyType
from zhifa.catalog.versions import in_force
from zhifa.errors import AppError
from zhifa.inspections import read
from zhifa.inspections import repository as repo
from zhifa.inspections.common import N_, digest, today
from zhifa.inspections.schemas import (
    FactRef,
    Quote,
    SimpleProcedureCaps,
    TaskBundle,
)
from zhifa.models.inspections import Inspection, InspectionTask
from zhifa.models.subjects import Subject, SubjectKind
from zhifa.org.actor import Actor
from zhifa.subjects.schemas import SubjectRead
from zhifa.subjects.service import subject_service
from zhifa.web.i18n import translate

QUOTE_REASONS: dict[str, str] = {
    "needs_facts": N_("The fine depends on facts found on site; enter them to compute it."),
    "no_benchmark": N_("This power has no discretion benchmark in force, so no fine is computed."),
    "party_type_unknown": N_(
        "The subject is a site with no registered party; name the party to compute the fine."
    ),
    "party_type_not_applicable": N_("This power does not apply to the subject's party type."),
    "not_computable": N_("The fine cannot be computed from the catalog: {problem}"),
}


def assemble(session: Session, district_code: str, subject_type: str, on: date) -> dict[str, Any]:
    """The merged checklist of the subject type on ``on``, as JSON."""
    checklist = assembly.for_subject_type(session, district_code, subject_type, on=on)
    return checklist.model_dump(mode="json")


def checklist_sha256(checklist: dict[str, Any]) -> str:
    return digest(checklist)


def checklist_for(
    session: Session, task: InspectionTask, subject: Subject, inspection: Inspection | None
) -> dict[str, Any]:
    if inspection is not None:
        return inspection.checklist
    return assemble(session, task.district_code, subject.subject_type_code, today())


def policy_spec(session: Session, district_code: str, on: date) -> PolicySpec:
    """The district's discretion policy in force on ``on`` (the default when it has none)."""
    row = in_force(snapshot_for(session, district_code).policies, on)
    if row is None:
        return DEFAULT_POLICY
    return row.spec if row.spec is not None else PolicySpec.model_validate_json(row.text)


def simple_procedure_caps(session: Session, district_code: str, on: date) -> SimpleProcedureCaps:
    spec = policy_spec(session, district_code, on)
    return SimpleProcedureCaps(
        person_fen=spec.simple_procedure_person_yuan * 100,
        organisation_fen=spec.simple_procedure_organisation_yuan * 100,
    )


def power_codes(checklist: dict[str, Any]) -> list[str]:
    codes = [p["code"] for item in checklist.get("items", []) for p in item.get("powers", [])]
    return list(dict.fromkeys(codes))


def quote(
    session: Session, district_code: str, code: str, party_type: str | None, on: date, locale: str
) -> Quote:
    """The engine's figure for one power with no facts, or why there is none."""
    power = snapshot_for(session, district_code).powers.get(code)
    bench = in_force(power.benchmarks, on) if power is not None else None
    version = in_force(power.versions, on) if power is not None else None
    facts = (
        [FactRef(key=f.key, label=f.label) for f in bench.spec.facts]
        if bench and bench.spec
        else []
    )

    def without(reason: str, **params: Any) -> Quote:
        message = translate(locale, QUOTE_REASONS[reason], **params)
        return Quote(needs_facts=facts, evaluation=None, reason=reason, message=message)

    if bench is None or version is None:
        return without("no_benchmark")
    if party_type is None:
        return without("party_type_unknown")
    applies = party_type in version.party_types and (
        bench.spec is None or bench.spec.statutory.formula(PartyType(party_type)) is not None
    )
    if not applies:
        return without("party_type_not_applicable")
    if facts:
        offline = offline_payload(session, district_code, code, party_type, on)
        return without("needs_facts").model_copy(update={"offline": offline})
    data = EvaluationIn(power_code=code, act_date=on, party_type=party_type, facts={})
    try:
        result = evaluate(loader.load(session, district_code, data, today=on))
    except AppError as exc:
        return without("not_computable", problem=translate(locale, exc.message, **exc.params))
    return Quote(needs_facts=[], evaluation=present(result, locale))


OFFLINE_VERSION = 1
# Every formula kind ``fine.js`` mirrors exactly (see ``catalog/discretion/amounts.py``).
OFFLINE_KINDS = frozenset(FormulaKind)


def offline_payload(
    session: Session, district_code: str, code: str, party_type: str, on: date
) -> dict[str, Any] | None:
    """What ``fine.js`` needs to compute the engine's recommendation for ``party_type`` with the
    facts found on site, no circumstances, no mitigation, act date = decision date = ``on``: the
    benchmark spec and the policy values exactly as the engine loads them, and the refs shown.

    ``None`` when the engine would not take its plain path (no loadable candidate, a later version
    in play) or a formula kind the app cannot mirror."""
    data = EvaluationIn(power_code=code, act_date=on, party_type=party_type, facts={})
    try:
        loaded = loader.load(session, district_code, data, today=on)
    except AppError:
        return None
    candidate = loaded.main.at_act
    if loaded.main.at_decision.identity != candidate.identity:
        return None
    spec, policy, party = candidate.spec, candidate.policy.spec, PartyType(party_type)
    formulas = [spec.statutory.formula(party), *(t.formula(party) for t in spec.tiers)]
    if any(f is not None and f.kind not in OFFLINE_KINDS for f in formulas):
        return None
    cap_yuan = (
        policy.simple_procedure_person_yuan
        if party is PartyType.PERSON
        else policy.simple_procedure_organisation_yuan
    )
    return {
        "version": OFFLINE_VERSION,
        "party_type": party_type,
        "on": on.isoformat(),
        "power": {
            "code": candidate.power.code,
            "name": candidate.power.name,
            "version": candidate.power.version,
        },
        "benchmark": {
            "version": candidate.benchmark.version,
            "effective_from": candidate.benchmark.effective_from.isoformat(),
        },
        "policy": {
            "version": candidate.policy.version,
            "position": str(policy.position),
            "round_to_yuan": policy.round_to_yuan,
            "simple_procedure_cap_fen": cap_yuan * 100,
        },
        "spec": spec.model_dump(mode="json"),
        "citations": [c.label for c in candidate.power.citations],
    }


def quotes(
    session: Session,
    district_code: str,
    checklist: dict[str, Any],
    party_type: str | None,
    on: date,
    locale: str,
) -> dict[str, Quote]:
    return {
        code: quote(session, district_code, code, party_type, on, locale)
        for code in power_codes(checklist)
    }


def subject_read(session: Session, subject: Subject, locale: str) -> SubjectRead:
    """The subject as the subject registry shows it (``SubjectRead``), fence included."""
    return subject_service.present(session, [subject], locale=locale)[0]


def task_bundle(session: Session, actor: Actor, task: InspectionTask, locale: str) -> TaskBundle:
    subject = session.get(Subject, task.subject_id)
    assert subject is not None
    inspection = repo.inspection_of_task(session, task.id)
    checklist = checklist_for(session, task, subject, inspection)
    on = today()
    party_type = SubjectKind(subject.kind).party_type
    base = read.task_read(session, actor, task, locale)
    check_ins = read.check_in_reads(
        session, repo.check_ins(session, [task.id]), {task.id: task}, locale
    )
    return TaskBundle(
        **(base.model_dump() | {"subject": subject_read(session, subject, locale)}),
        checklist=checklist,
        checklist_sha256=(
            inspection.checklist_sha256 if inspection is not None else checklist_sha256(checklist)
        ),
        quotes=quotes(session, task.district_code, checklist, party_type, on, locale),
        party_type=party_type,
        inspection=read.inspection_read(session, inspection, task, locale) if inspection else None,
        check_ins=check_ins,
        documents=[read.document_ref(d, locale) for d in repo.documents_of_task(session, task.id)],
        simple_procedure_caps=simple_procedure_caps(session, task.district_code, on),
    )
