"""Navigation by role: which menu entries an actor sees."""

from __future__ import annotations

from dataclasses import dataclass

from zhifa.org.actor import Actor
from zhifa.org.roles import Permission


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission | None = None


NAV_ITEMS = (
    NavItem("Home", "/"),
    NavItem("Field terminal", "/m/", Permission.INSPECT),
    NavItem("Command centre", "/command", Permission.COMMAND_VIEW),
    NavItem("Complaints", "/complaints", Permission.COMPLAINTS_READ),
    NavItem("Supervision", "/supervision", Permission.COMMAND_VIEW),
    NavItem("Performance", "/analytics", Permission.COMMAND_VIEW),
    NavItem("Inspection tasks", "/inspections/tasks", Permission.INSPECTIONS_READ),
    NavItem("Subjects", "/subjects", Permission.SUBJECTS_READ),
    NavItem("Documents", "/documents", Permission.INSPECTIONS_READ),
    NavItem("Catalog", "/catalog", Permission.CATALOG_READ),
    NavItem("Fine calculator", "/catalog/calculator", Permission.CATALOG_READ),
    NavItem("Units", "/admin/units", Permission.ORG_READ),
    NavItem("Officers", "/admin/officers", Permission.ORG_READ),
    NavItem("Grids", "/admin/grids", Permission.ORG_READ),
    NavItem("Departments", "/admin/departments", Permission.ORG_READ),
    NavItem("Districts", "/admin/districts", Permission.DISTRICTS_MANAGE),
    NavItem("Complaint settings", "/admin/complaints", Permission.COMPLAINTS_CONFIGURE),
    NavItem("Integrations", "/integrations", Permission.COMMAND_VIEW),
    NavItem("Audit", "/audit", Permission.AUDIT_READ),
    NavItem("My account", "/account"),
)


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    return [item for item in NAV_ITEMS if item.permission is None or actor.can(item.permission)]
