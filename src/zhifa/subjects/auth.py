"""Permission dependencies of the subject registry, and the id-card keys of the running app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from zhifa.config import Settings
from zhifa.org.actor import Actor
from zhifa.org.auth import require
from zhifa.org.roles import Permission
from zhifa.subjects.idcard import IdCardKeys, keys_for

SubjectsRead = Annotated[Actor, require(Permission.SUBJECTS_READ)]
SubjectsManage = Annotated[Actor, require(Permission.SUBJECTS_MANAGE)]
SubjectsReveal = Annotated[Actor, require(Permission.SUBJECTS_REVEAL)]


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def id_card_keys(request: Request) -> IdCardKeys:
    return keys_for(app_settings(request).secret())


Keys = Annotated[IdCardKeys, Depends(id_card_keys)]
