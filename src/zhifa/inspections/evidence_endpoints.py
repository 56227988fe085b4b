"""Placeholder: filled in by issue 5 work."""

from fastapi import APIRouter

router = APIRouter()
