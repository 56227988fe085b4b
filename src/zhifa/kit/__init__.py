"""Small shared helpers with no domain knowledge: time, district codes, geometry, pagination."""
