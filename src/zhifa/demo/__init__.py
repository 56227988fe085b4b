"""The demo district (演示区县): a fictional bureau modelled on Chongzhou (崇州, GB/T 2260 510184).

Owns the demo data (``data``), the demo accounts (``accounts``) and the loader (``loader``).

Invariants:
- Every name, number and place in it is fictional, and the district is marked ``fictional`` so every
  page says so; certificate numbers carry the ``DEMO-`` prefix.
- Loading is idempotent: rows are found by their natural keys and only missing ones are
  created, so a second load changes nothing (not even a password a user has changed since).
"""
