"""Officers (执法人员): accounts of the bureau with their unit, roles, data scope and 执法证.

Invariants: 执法证号 (``cert_no``) is unique across the deployment; an officer's unit is in the
officer's district; nobody grants a data scope wider than their own; password hashes never leave
the model (no schema carries them, no ledger payload holds them).
"""
