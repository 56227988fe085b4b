"""Organisation: districts, source departments, the unit tree (局 → 大队 → 中队), officers, roles,
data scopes, responsibility grids, and the accounts that sign in (sessions, API tokens).

Invariant: a user never sees or changes data outside their data scope; the check lives in the
repositories (through ``zhifa.org.scope``), and a row outside the scope answers 404.
"""
