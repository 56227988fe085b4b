"""The registry of regulated parties and sites (执法对象): enterprises, individually-owned
businesses, organisations, persons and bare sites, each with a location, a geofence, a subject type
(which selects the checklist templates), a risk level and the licences it holds; their history of
inspections, findings, penalties, documents and case leads; the Excel import.

Invariants:
- An enterprise, individual business or organisation has a valid 统一社会信用代码 (upper-case,
  unique in its district). A person's 居民身份证号 is never stored or ledgered in clear
  (``idcard``); every reveal of it is a ledger event carrying the reason, never the number.
- The subject's point sets its grid and squad (``unit_id``): that is the data scope. A squad-scoped
  officer sees and registers only subjects inside the grids of their squad; anything else is 404.
- Every create, change and deactivation is one ledger event with the row's state; an import is one
  ``subject.imported`` event beside a ``subject.created`` per new row. Nothing is deleted.
"""
