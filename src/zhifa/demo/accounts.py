"""The demo accounts: one per role with an easy user name, the rest plain field officers.

All demo accounts share ``DEMO_PASSWORD``. It is printed by ``zhifa demo load`` and listed in the
README: acceptable for a demo district, never for real data.
"""

from __future__ import annotations

from zhifa.org.roles import Role

DEMO_PASSWORD = "Zhifa-Demo-2026"

ROLE_USERNAMES: dict[Role, str] = {
    Role.OFFICER: "officer",
    Role.SQUAD_LEADER: "squadleader",
    Role.DISPATCHER: "dispatcher",
    Role.LEGAL_REVIEWER: "legal",
    Role.LEADER: "leader",
    Role.CATALOG_ADMIN: "catalog",
    Role.AUDITOR: "auditor",
    Role.SYSTEM_ADMIN: "admin",
}

DEMO_OFFICER_COUNT = 40

# The role accounts first, then plain field officers officer02, officer03 … up to 40 accounts.
DEMO_ACCOUNTS: list[tuple[str, str]] = [
    (role.value, username) for role, username in ROLE_USERNAMES.items()
] + [
    (Role.OFFICER.value, f"officer{n:02d}")
    for n in range(2, DEMO_OFFICER_COUNT - len(ROLE_USERNAMES) + 2)
]
