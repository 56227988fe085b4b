"""Permission dependencies of the catalog: reading it (every role) and maintaining it
(清单管理员)."""

from __future__ import annotations

from typing import Annotated

from zhifa.org.actor import Actor
from zhifa.org.auth import require
from zhifa.org.roles import Permission

CatalogRead = Annotated[Actor, require(Permission.CATALOG_READ)]
CatalogManage = Annotated[Actor, require(Permission.CATALOG_MANAGE)]
