"""Accounts and authentication: logging in and out, lock-out and throttling, passwords, web sessions
and API tokens. 账户与身份认证。

Invariants:
- Secrets (session cookies, API tokens) never reach the database: only their SHA-256 digest does,
  and a token's secret is shown exactly once, when it is created.
- Every login attempt writes a ``LoginAttempt``; a refused login is recorded in the ledger in a
  transaction of its own (it must survive the refusal), a successful one lands with its session.
- An account is locked after ``login_max_failures`` wrong passwords for ``login_lockout_minutes``;
  an address is throttled after ``login_ip_max_failures`` failures inside the window.
- A token's scopes are a subset of its holder's permissions; another scope's tokens and officers
  answer 404.
"""
