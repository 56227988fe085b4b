"""Field inspection (现场检查): tasks, check-in on site, checklist runs, measures, amendments, case
leads (``tasks``, ``checkin``, ``bundle``, ``measures``, ``runs``) and evidence (``evidence``).

Invariants: the server decides check-in from the fix, the fence and the window, and keeps every
attempt; two officers are present before anything is submitted (行政处罚法 art. 42); every item of
the frozen checklist is answered; a submitted answer never changes (a correction is a reasoned
amendment); device submissions apply once per client UUID; every change is a ledger event.
See ``docs/inspections.md``.
"""
