"""Responsibility grids (网格): GeoJSON polygons owned by a squad (中队).

Invariants: a grid's owner is an active squad in the grid's district; its geometry passed
``zhifa.kit.geo.grid_shape`` (one valid Polygon inside China, [lon, lat]); an import writes every
feature or none.
"""
