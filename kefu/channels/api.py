"""Inbound channel endpoints (thin: parse, check permission, call the service)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["channels"])
