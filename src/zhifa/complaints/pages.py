"""Placeholder: the router this module will serve (work in progress)."""

from fastapi import APIRouter

router = APIRouter()
