"""Open311 GeoReport v2 server under /open311/v2 (``docs/open311.md``): discovery, services and
their definitions, requests (file, query, one, tokens) and mySociety's servicerequestupdates, in
JSON and XML with the standard error bodies.

Invariants: reads are public and show only what the public may see (never the reporter's
identity); writes need an active integration's api_key of the jurisdiction and go through
``complaints.intake`` / ``complaints.workflow`` like every other channel.
"""
