"""The discretion engine (自由裁量计算): from an act's facts and circumstances to the decision, the
fine and a step-by-step explanation a party can read — computed from the benchmark in force, never
typed in.

- ``engine.evaluate`` is pure: it takes what ``loader`` read (power, benchmark and policy versions
  in force on the act and decision dates, cited texts) and returns an ``EngineResult``;
- ``assess`` applies one set of rules (limitation, exemptions, level, band, tier, amounts);
- ``amounts`` is the formula arithmetic (Decimal in, whole fen out);
- ``explain`` turns steps into sentences through the translation catalog;
- ``schemas`` and ``endpoints`` are the API (``POST /api/v1/discretion/evaluate``).

Invariants: a recommendation never leaves the statutory range unless the level is 减轻, which is
flagged for legal review; any other amount needs a written reason, and one outside the tier needs
legal review; the recommended figure is always reported beside a chosen one.
"""
