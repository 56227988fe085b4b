"""Permission dependencies of field inspection: reading tasks and results (every role), carrying
out inspections (执法队员) and managing tasks (中队长, 指挥中心, 局领导)."""

from __future__ import annotations

from typing import Annotated

from zhifa.org.actor import Actor
from zhifa.org.auth import require
from zhifa.org.roles import Permission

InspectionsRead = Annotated[Actor, require(Permission.INSPECTIONS_READ)]
Inspect = Annotated[Actor, require(Permission.INSPECT)]
TasksManage = Annotated[Actor, require(Permission.TASKS_MANAGE)]
