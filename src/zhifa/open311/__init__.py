"""Open311 GeoReport v2 server under /open311/v2."""
