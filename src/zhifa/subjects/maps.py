"""GeoJSON for the subject maps (Leaflet, no tiles needed): subjects with their fences, grids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zhifa.models.org import Grid
from zhifa.models.subjects import Subject


def subjects_collection(rows: Sequence[Subject], colours: dict[str, str]) -> dict[str, Any]:
    """A point per subject (with its fence: polygon geometry or radius in the properties)."""
    features = []
    for s in rows:
        if s.lon is None or s.lat is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": {
                    "id": s.id,
                    "name": s.name,
                    "address": s.address,
                    "risk": str(s.risk_level),
                    "colour": colours.get(str(s.risk_level), "grey"),
                    "fence": s.geofence,
                    "radius_m": s.geofence_radius_m,
                    "url": f"/subjects/{s.id}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def grid_collection(grids: Sequence[Grid]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": g.geometry,
            "properties": {"code": g.code, "name": g.name},
        }
        for g in grids
    ]
    return {"type": "FeatureCollection", "features": features}
