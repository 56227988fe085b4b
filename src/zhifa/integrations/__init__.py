"""Integrations with the city platform (网络理政 / 12345): signed webhooks and Open311 updates sent
through an outbox, and polling an upstream Open311 endpoint for new requests."""
