"""Event kinds of the ledger and their labels for people (the ``event_label`` template filter).

A kind is a dotted string (``org.officer.updated``) fixed in the leaf bytes forever; its label is
English here (the msgid) and Chinese in ``locale/zh_CN/LC_MESSAGES/ledger.po``.

Invariants: every kind the code records has a label in ``EVENT_LABELS``; an unknown kind (a kind
from a later version, or one removed since) is still shown, by its group and its raw string, and
never breaks a page. Importing this module registers the filter on the shared Jinja environment.
"""

from __future__ import annotations

from jinja2 import pass_context
from jinja2.runtime import Context

from zhifa.web.i18n import DEFAULT_LOCALE, translate
from zhifa.web.templating import templates


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


EVENT_LABELS: dict[str, str] = {
    "org.district.created": N_("District created"),
    "org.district.updated": N_("District changed"),
    "org.department.created": N_("Department created"),
    "org.department.updated": N_("Department changed"),
    "org.department.deactivated": N_("Department deactivated"),
    "org.unit.created": N_("Unit created"),
    "org.unit.updated": N_("Unit changed"),
    "org.unit.deactivated": N_("Unit deactivated"),
    "org.unit.moved": N_("Unit moved"),
    "org.unit.repathed": N_("Unit path updated after a move"),
    "org.officer.created": N_("Officer created"),
    "org.officer.updated": N_("Officer changed"),
    "org.grid.created": N_("Grid created"),
    "org.grid.updated": N_("Grid changed"),
    "org.grid.deactivated": N_("Grid deactivated"),
    "org.grid.imported": N_("Grid imported"),
    "account.created": N_("Account created"),
    "account.locale_changed": N_("Display language changed"),
    "account.password_changed": N_("Password changed"),
    "account.password_reset": N_("Password reset"),
    "account.token_created": N_("API token created"),
    "account.token_revoked": N_("API token revoked"),
    "security.login_succeeded": N_("Logged in"),
    "security.login_failed": N_("Login failed"),
    "security.logout": N_("Logged out"),
    "security.account_locked": N_("Account locked"),
    "security.permission_denied": N_("Permission denied"),
    "ledger.row_attested": N_("Row state attested"),
    "catalog.law.imported": N_("Legal document imported"),
    "catalog.provision.imported": N_("Provision imported"),
    "catalog.provision.revised": N_("Provision text revised"),
    "catalog.power.created": N_("Power item created"),
    "catalog.power.versioned": N_("Power item version recorded"),
    "catalog.benchmark.versioned": N_("Discretion benchmark version recorded"),
    "catalog.subject_type.created": N_("Subject type created"),
    "catalog.subject_type.updated": N_("Subject type changed"),
    "catalog.check_item.created": N_("Check item created"),
    "catalog.check_item.versioned": N_("Check item version recorded"),
    "catalog.checklist.created": N_("Checklist template created"),
    "catalog.checklist.versioned": N_("Checklist template version recorded"),
    "catalog.policy.versioned": N_("Discretion policy version recorded"),
    "catalog.import.completed": N_("Catalog file imported"),
    "subject.created": N_("Subject registered"),
    "subject.updated": N_("Subject changed"),
    "subject.deactivated": N_("Subject deactivated"),
    "subject.imported": N_("Subjects imported"),
    "subject.id_revealed": N_("ID number revealed"),
    "inspection.task.created": N_("Inspection task created"),
    "inspection.task.updated": N_("Inspection task changed"),
    "inspection.task.cancelled": N_("Inspection task cancelled"),
    "inspection.check_in.accepted": N_("Checked in on site"),
    "inspection.check_in.refused": N_("Check-in refused"),
    "inspection.check_in.exception_requested": N_("Check-in exception requested"),
    "inspection.check_in.exception_decided": N_("Check-in exception decided"),
    "inspection.presence_confirmed": N_("Second officer confirmed presence"),
    "inspection.started": N_("Checklist started"),
    "inspection.submitted": N_("Inspection submitted"),
    "inspection.answer.recorded": N_("Checklist answer recorded"),
    "inspection.amended": N_("Inspection answer amended"),
    "inspection.case_lead.created": N_("Case lead recorded"),
    "inspection.evidence.added": N_("Evidence added"),
    "document.settings.changed": N_("Document numbering settings changed"),
    "document.number.used": N_("Document number used"),
    "document.number.voided": N_("Document number voided"),
    "document.block.allotted": N_("Number block allotted to a device"),
    "document.block.returned": N_("Number block returned"),
    "document.issued": N_("Document issued"),
    "document.signed": N_("Document signed"),
    "document.signature_refused": N_("Signature refused"),
    "complaint.received": N_("Complaint received"),
    "complaint.filed": N_("Complaint filed"),
    "complaint.rejected": N_("Complaint not accepted"),
    "complaint.transferred": N_("Complaint transferred"),
    "complaint.merged": N_("Complaint merged as a duplicate"),
    "complaint.dispatched": N_("Complaint dispatched"),
    "complaint.taken": N_("Complaint accepted by officer"),
    "complaint.declined": N_("Complaint declined by officer"),
    "complaint.arrived": N_("Officer arrived on scene"),
    "complaint.disposed": N_("Complaint handled on site"),
    "complaint.fed_back": N_("Handling result reported"),
    "complaint.verified": N_("Handling verified"),
    "complaint.rework": N_("Handling sent back for rework"),
    "complaint.closed": N_("Complaint closed"),
    "complaint.rated": N_("Complainant's rating recorded"),
    "complaint.paused": N_("Complaint clock paused"),
    "complaint.resumed": N_("Complaint clock resumed"),
    "complaint.extension_requested": N_("Deadline extension requested"),
    "complaint.extended": N_("Deadline extension approved"),
    "complaint.extension_refused": N_("Deadline extension refused"),
    "complaint.escalated": N_("Deadline alert raised"),
    "complaint.note": N_("Complaint note added"),
    "complaint.media_added": N_("Complaint photo added"),
    "complaint.reporter_revealed": N_("Complainant's identity revealed"),
    "complaint.imported": N_("Complaints imported"),
    "complaint.category.created": N_("Complaint category created"),
    "complaint.category.updated": N_("Complaint category changed"),
    "complaint.sla_profile.saved": N_("Deadline profile saved"),
    "complaint.workday.saved": N_("Working-day exception saved"),
    "complaint.settings.changed": N_("Complaint settings changed"),
    "dispatch.status.changed": N_("Officer duty status changed"),
    "integration.created": N_("Integration created"),
    "integration.updated": N_("Integration changed"),
    "integration.key_issued": N_("Integration key issued"),
    "integration.delivered": N_("Update delivered to the city platform"),
}

GROUP_LABELS: dict[str, str] = {
    "org": N_("Organisation event"),
    "account": N_("Account event"),
    "security": N_("Security event"),
    "catalog": N_("Catalog event"),
}

# Payload keys as people read them; a key not listed is shown as it is.
FIELD_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "code": N_("Code"),
    "username": N_("User name"),
    "unit_id": N_("Unit"),
    "unit_code": N_("Unit"),
    "parent_id": N_("Parent unit"),
    "parent_code": N_("Parent unit"),
    "cert_no": N_("Enforcement certificate no."),
    "cert_valid_from": N_("Valid from"),
    "cert_valid_until": N_("Valid until"),
    "phone": N_("Phone"),
    "roles": N_("Roles"),
    "scope": N_("Data scope"),
    "scopes": N_("Scopes"),
    "status": N_("Status"),
    "locale": N_("Language"),
    "active": N_("Active"),
    "kind": N_("Kind"),
    "path": N_("Path"),
    "district_code": N_("District code"),
    "bureau_name": N_("Bureau"),
    "city_code": N_("City code"),
    "fictional": N_("Fictional"),
    "via": N_("Channel"),
    "channel": N_("Channel"),
    "ip": N_("IP address"),
    "reason": N_("Reason"),
    "method": N_("Request method"),
    "days": N_("Valid for (days)"),
    "area_m2": N_("Area (m²)"),
    "session_id": N_("Session"),
    "officer_id": N_("Officer"),
    "prefix": N_("Token prefix"),
}

UNKNOWN_KIND = N_("{group}: {kind}")
OTHER_GROUP = N_("Other event")


def label(kind: str, locale: str = DEFAULT_LOCALE) -> str:
    """The label of ``kind`` in ``locale``; an unknown kind shows its group and raw string."""
    known = EVENT_LABELS.get(kind)
    if known is not None:
        return translate(locale, known)
    group = translate(locale, GROUP_LABELS.get(kind.partition(".")[0], OTHER_GROUP))
    return translate(locale, UNKNOWN_KIND, group=group, kind=kind)


@pass_context
def event_label(context: Context, kind: str) -> str:
    """Jinja filter: ``{{ event.kind|event_label }}`` in the page's language."""
    return label(kind, context.get("locale", DEFAULT_LOCALE))


@pass_context
def field_label(context: Context, key: str) -> str:
    """Jinja filter: a payload key as a person reads it, in the page's language."""
    known = FIELD_LABELS.get(key)
    return key if known is None else translate(context.get("locale", DEFAULT_LOCALE), known)


templates.env.filters["event_label"] = event_label
templates.env.filters["field_label"] = field_label
