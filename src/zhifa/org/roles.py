"""Roles, data-scope levels and the permissions each role holds.

A permission says what an actor may do; the data scope says on which rows. Both are checked: the
permission by the route's dependency, the scope by the repository.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    SQUAD_LEADER = "squad_leader"
    DISPATCHER = "dispatcher"
    LEGAL_REVIEWER = "legal_reviewer"
    LEADER = "leader"
    CATALOG_ADMIN = "catalog_admin"
    AUDITOR = "auditor"
    SYSTEM_ADMIN = "system_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.OFFICER: "Field officer",
    Role.SQUAD_LEADER: "Squad leader",
    Role.DISPATCHER: "Dispatcher",
    Role.LEGAL_REVIEWER: "Legal reviewer",
    Role.LEADER: "Bureau leader",
    Role.CATALOG_ADMIN: "Catalog admin",
    Role.AUDITOR: "Auditor",
    Role.SYSTEM_ADMIN: "System admin",
}


class ScopeLevel(StrEnum):
    SQUAD = "squad"
    BRIGADE = "brigade"
    DISTRICT = "district"
    CITY = "city"

    @property
    def label(self) -> str:
        return {
            "squad": "Own squad",
            "brigade": "Own brigade",
            "district": "Whole district",
            "city": "Whole city",
        }[self.value]


class Permission(StrEnum):
    ORG_READ = "org:read"
    ORG_MANAGE = "org:manage"
    DISTRICTS_MANAGE = "districts:manage"
    TOKENS_OWN = "tokens:own"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    CATALOG_READ = "catalog:read"
    CATALOG_MANAGE = "catalog:manage"
    SUBJECTS_READ = "subjects:read"
    SUBJECTS_MANAGE = "subjects:manage"
    # See a person's full 居民身份证号 (each reveal is a ledger event).
    SUBJECTS_REVEAL = "subjects:reveal"
    # Carry out inspections: check in, answer, attach evidence, issue on-site documents.
    INSPECT = "inspections:inspect"
    INSPECTIONS_READ = "inspections:read"
    # Plan and assign tasks, decide check-in exceptions, allot and recall number blocks.
    TASKS_MANAGE = "inspections:manage"
    DOCUMENTS_CONFIGURE = "documents:configure"
    COMMAND_VIEW = "command:view"
    # Complaints (投诉举报): read in the data scope; enter by phone and import (受理员);
    # file, reject, transfer, dispatch, verify and close (指挥中心); take, arrive, handle and report
    # back, and send positions and duty status (field officers); approve extensions (leaders);
    # see the complainant's identity (each reveal is a ledger event); configure categories,
    # deadlines and working days; manage integrations with the city platform.
    COMPLAINTS_READ = "complaints:read"
    COMPLAINTS_INTAKE = "complaints:intake"
    COMPLAINTS_DISPATCH = "complaints:dispatch"
    COMPLAINTS_HANDLE = "complaints:handle"
    COMPLAINTS_APPROVE = "complaints:approve"
    COMPLAINTS_REVEAL = "complaints:reveal"
    COMPLAINTS_CONFIGURE = "complaints:configure"
    INTEGRATIONS_MANAGE = "integrations:manage"


_EVERYONE = {
    Permission.ORG_READ,
    Permission.TOKENS_OWN,
    Permission.CATALOG_READ,
    Permission.SUBJECTS_READ,
    Permission.INSPECTIONS_READ,
    Permission.COMPLAINTS_READ,
}
_FIELD = {Permission.INSPECT, Permission.SUBJECTS_MANAGE, Permission.COMPLAINTS_HANDLE}
_COMMAND = {
    Permission.COMMAND_VIEW,
    Permission.COMPLAINTS_INTAKE,
    Permission.COMPLAINTS_DISPATCH,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(_EVERYONE | _FIELD),
    Role.SQUAD_LEADER: frozenset(
        _EVERYONE
        | _FIELD
        | _COMMAND
        | {Permission.TASKS_MANAGE, Permission.SUBJECTS_REVEAL, Permission.COMPLAINTS_APPROVE}
    ),
    Role.DISPATCHER: frozenset(
        _EVERYONE | _COMMAND | {Permission.TASKS_MANAGE, Permission.COMPLAINTS_REVEAL}
    ),
    Role.LEGAL_REVIEWER: frozenset(_EVERYONE | {Permission.SUBJECTS_REVEAL}),
    Role.LEADER: frozenset(
        _EVERYONE
        | {
            Permission.AUDIT_READ,
            Permission.TASKS_MANAGE,
            Permission.SUBJECTS_REVEAL,
            Permission.COMPLAINTS_APPROVE,
            Permission.COMPLAINTS_REVEAL,
        }
        | _COMMAND
    ),
    Role.CATALOG_ADMIN: frozenset(_EVERYONE | {Permission.CATALOG_MANAGE}),
    Role.AUDITOR: frozenset(_EVERYONE | {Permission.AUDIT_READ}),
    Role.SYSTEM_ADMIN: frozenset(
        _EVERYONE
        | {
            Permission.ORG_MANAGE,
            Permission.DISTRICTS_MANAGE,
            Permission.TOKENS_MANAGE,
            Permission.AUDIT_READ,
            Permission.SUBJECTS_MANAGE,
            Permission.DOCUMENTS_CONFIGURE,
            Permission.COMPLAINTS_CONFIGURE,
            Permission.INTEGRATIONS_MANAGE,
        }
    ),
}

# The widest scope a role is usually given; accounts may be narrower.
DEFAULT_SCOPE: dict[Role, ScopeLevel] = {
    Role.OFFICER: ScopeLevel.SQUAD,
    Role.SQUAD_LEADER: ScopeLevel.SQUAD,
    Role.DISPATCHER: ScopeLevel.DISTRICT,
    Role.LEGAL_REVIEWER: ScopeLevel.DISTRICT,
    Role.LEADER: ScopeLevel.DISTRICT,
    Role.CATALOG_ADMIN: ScopeLevel.DISTRICT,
    Role.AUDITOR: ScopeLevel.DISTRICT,
    Role.SYSTEM_ADMIN: ScopeLevel.DISTRICT,
}


def permissions_for(roles: frozenset[Role]) -> frozenset[Permission]:
    result: set[Permission] = set()
    for role in roles:
        result |= ROLE_PERMISSIONS[role]
    return frozenset(result)
