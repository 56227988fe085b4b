"""The actor: who is making a request, with which roles, permissions and data scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zhifa.org.roles import Permission, Role
from zhifa.org.scope import DataScope


@dataclass(frozen=True)
class Actor:
    officer_id: int
    username: str
    name: str
    district_code: str
    unit_id: int | None
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    scope: DataScope
    via: Literal["session", "token", "system"]
    csrf_token: str | None = None
    locale: str = ""
    district_name: str = ""
    # Demo and test districts carry fictional data: every page says so.
    district_fictional: bool = False

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def has_role(self, role: Role) -> bool:
        return role in self.roles
