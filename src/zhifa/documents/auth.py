"""Permission dependencies of the documents domain: issuing and numbering on site
(inspections:inspect), reading (inspections:read) and configuring the numbering rule
(documents:configure). The verify page and its JSON are public on purpose (no dependency)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from zhifa.errors import PermissionDenied
from zhifa.org.actor import Actor
from zhifa.org.auth import CurrentActor, require
from zhifa.org.roles import Permission

Inspect = Annotated[Actor, require(Permission.INSPECT)]
InspectionsRead = Annotated[Actor, require(Permission.INSPECTIONS_READ)]
DocumentsConfigure = Annotated[Actor, require(Permission.DOCUMENTS_CONFIGURE)]


def _inspect_or_manage(actor: CurrentActor) -> Actor:
    if not (actor.can(Permission.INSPECT) or actor.can(Permission.TASKS_MANAGE)):
        wanted = " | ".join((Permission.INSPECT, Permission.TASKS_MANAGE))
        raise PermissionDenied(
            "Your role does not allow this action.", detail={"permission": wanted}
        )
    return actor


# Returning a number block: the officer holding it, or a squad leader / dispatcher (scope checked
# by the service).
InspectOrManage = Annotated[Actor, Depends(_inspect_or_manage)]
