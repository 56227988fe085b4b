"""The enforcement catalog (法律法规库、权责清单、巡查清单、裁量基准): what the bureau may
enforce, on what legal basis, what to check for each kind of subject, and how a fine is computed.

Invariants: nothing is overwritten (every change is a new version with an effective date, see
``zhifa.models.catalog``); every change is a ledger event in the caller's transaction; a benchmark
is validated once, when saved (``catalog.spec``), and the discretion engine trusts it.
"""
