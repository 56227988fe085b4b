// The fine computed on the phone (离线计算): a checked copy of the discretion engine's plain path
// (catalog/discretion: assess.py, amounts.py, facts.py) for one party type, with the facts found
// on site, no circumstances, no mitigation, act date = decision date = the bundle's day.
// The bundle's quote carries `offline` (inspections/bundle.py offline_payload): the benchmark spec,
// the policy's position and rounding, the refs. The server evaluates again on arrival.
// Exact arithmetic only: every number is a decimal {n: BigInt, s: scale} (value n / 10^s), money
// is whole fen. No floating point touches an amount.

const MAX_MONEY_FEN = 10n ** 15n;
const MAX_COUNT = 10n ** 9n;
const MAX_QUANTITY = dec("1000000000000");
const MAX_SCALE = 20; // decimals a quantity may have (the engine keeps 60 significant digits)

// A decimal from a string or integer ("1.5", 7, "123.45"); null when it is not a plain number.
export function dec(value) {
  if (typeof value === "bigint") return value >= 0n ? { n: value, s: 0 } : null;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return null;
    value = String(value);
  }
  if (typeof value !== "string") return null;
  const m = /^(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || m[1] + (m[2] || "") === "") return null;
  const frac = m[2] || "";
  return { n: BigInt((m[1] || "0") + frac), s: frac.length };
}

function scaled(a, s) {
  return a.n * 10n ** BigInt(s - a.s);
}

function cmp(a, b) {
  const s = Math.max(a.s, b.s);
  const x = scaled(a, s), y = scaled(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

function mul(a, b) {
  return { n: a.n * b.n, s: a.s + b.s };
}

function div100(a) {
  return { n: a.n, s: a.s + 2 };
}

function minDec(a, b) {
  return cmp(a, b) <= 0 ? a : b;
}

function ceil(a) {
  const d = 10n ** BigInt(a.s);
  const q = a.n / d; // values are never negative
  return a.n % d === 0n ? q : q + 1n;
}

function floor(a) {
  return a.n / 10n ** BigInt(a.s);
}

function halfUp(a) {
  const d = 10n ** BigInt(a.s);
  return (2n * a.n + d) / (2n * d);
}

const HOLDS = {
  lt: (c) => c < 0, le: (c) => c <= 0, gt: (c) => c > 0, ge: (c) => c >= 0, eq: (c) => c === 0,
};

class FineError extends Error {
  constructor(message, params = {}) {
    super(message);
    this.params = params;
  }
}

// A fact as the engine reads it: money in whole fen, a count whole, a quantity a decimal.
function readFact(fact, raw) {
  if (raw === undefined || raw === null || raw === "") {
    throw new FineError("Enter {fact} to compute the fine.", { fact: fact.label, key: fact.key });
  }
  const value = dec(typeof raw === "string" ? raw.trim() : raw);
  if (fact.kind === "money" || fact.kind === "count") {
    const limit = fact.kind === "money" ? MAX_MONEY_FEN : MAX_COUNT;
    // As the engine: a whole number only ("7.0" is refused there too, the app sends it as text).
    if (!value || value.s !== 0 || value.n > limit) {
      throw new FineError("{fact}: give a whole number, 0 or more.", { fact: fact.label, key: fact.key });
    }
    return value;
  }
  if (!value || value.s > MAX_SCALE || cmp(value, MAX_QUANTITY) > 0) {
    throw new FineError("{fact}: give a number, 0 or more.", { fact: fact.label, key: fact.key });
  }
  return value;
}

function formulaOf(holder, party) {
  return holder ? holder[party] || null : null;
}

// The formula's exact range for the facts (amounts.py _exact), before rounding.
function exact(formula, facts) {
  const num = (v) => dec(v === null || v === undefined ? "0" : String(v));
  switch (formula.kind) {
    case "fixed": return [num(formula.min_fen), num(formula.max_fen)];
    case "up_to": return [dec("0"), num(formula.max_fen)];
    case "per_unit": {
      const base = facts[formula.fact];
      return [mul(base, num(formula.min_fen)), mul(base, num(formula.max_fen))];
    }
    case "multiple": {
      const base = facts[formula.fact];
      return [mul(base, num(formula.min_factor)), mul(base, num(formula.max_factor))];
    }
    case "percent": {
      const base = facts[formula.fact];
      return [div100(mul(base, num(formula.min_factor))), div100(mul(base, num(formula.max_factor)))];
    }
    default: throw new FineError("This benchmark cannot be computed on the phone.");
  }
}

function rounded(lo, hi) {
  const low = ceil(lo), high = floor(hi);
  return { lo: low < high ? low : high, hi: high };
}

// amounts.concrete: the range in fen, capped; null for a formula without a fine.
function concrete(formula, facts) {
  if (formula.kind === "none") return null;
  let [lo, hi] = exact(formula, facts);
  if (formula.cap_fen !== null && formula.cap_fen !== undefined) {
    const cap = dec(String(formula.cap_fen));
    lo = minDec(lo, cap);
    hi = minDec(hi, cap);
  }
  return rounded(lo, hi);
}

function clamp(inner, outer) {
  const max = (x, y) => (x > y ? x : y), min = (x, y) => (x < y ? x : y);
  return { lo: min(max(inner.lo, outer.lo), outer.hi), hi: max(min(inner.hi, outer.hi), outer.lo) };
}

// amounts.recommend: lo + (hi − lo) × position, half-up to the fen, then to the yuan if inside.
function recommend(span, position, roundToYuan) {
  const p = dec(position);
  const exactFen = { n: span.lo * 10n ** BigInt(p.s) + (span.hi - span.lo) * p.n, s: p.s };
  const fen = halfUp(exactFen);
  if (roundToYuan) {
    const whole = halfUp({ n: fen, s: 2 }) * 100n;
    if (span.lo <= whole && whole <= span.hi) return whole;
  }
  return fen;
}

function tierOf(tiers, level, band) {
  const found = tiers.filter((t) => t.level === level && (t.band === band || t.band === null || t.band === undefined));
  const own = found.filter((t) => (t.band ?? null) === band);
  return (own.length ? own : found)[0] || null;
}

function range(r) {
  return r ? { lo: Number(r.lo), hi: Number(r.hi) } : null;
}

// The engine's recommended amount, offline. Returns {amount_fen, tier_range, statutory_range,
// band, level} (fen as Numbers, exact below 2^53), or {error, params} when it cannot compute.
export function computeOffline(offline, rawFacts) {
  try {
    if (!offline || offline.version !== 1) throw new FineError("This benchmark cannot be computed on the phone.");
    const spec = offline.spec, party = offline.party_type;
    const statutoryFormula = formulaOf(spec.statutory, party);
    if (!statutoryFormula) throw new FineError("This power does not apply to the subject's party type.");
    const facts = {};
    for (const fact of spec.facts || []) {
      const raw = (rawFacts || {})[fact.key];
      if (raw !== undefined && raw !== null && raw !== "") facts[fact.key] = readFact(fact, raw);
    }
    const needed = new Set();
    for (const f of [statutoryFormula, ...(spec.tiers || []).map((t) => formulaOf(t, party))]) {
      if (f && f.fact) needed.add(f.fact);
    }
    for (const band of spec.bands || []) for (const c of band.when || []) needed.add(c.fact);
    for (const fact of spec.facts || []) {
      if (needed.has(fact.key) && !(fact.key in facts)) readFact(fact, undefined);
    }
    const statutory = concrete(statutoryFormula, facts);
    let band = null;
    for (const candidate of spec.bands || []) {
      if ((candidate.when || []).every((c) => HOLDS[c.op](cmp(facts[c.fact], dec(String(c.value)))))) {
        band = candidate;
        break;
      }
    }
    if ((spec.bands || []).length && !band) {
      throw new FineError("No degree of the benchmark matches the facts given; check them.");
    }
    const tier = tierOf(spec.tiers || [], "ordinary", band ? band.key : null);
    if (!tier) throw new FineError("This benchmark cannot be computed on the phone.");
    const result = {
      amount_fen: null, tier_range: null, statutory_range: range(statutory),
      band: band ? { key: band.key, label: band.label } : null, level: "ordinary",
    };
    if (statutory === null) return result;
    const tierFormula = formulaOf(tier, party);
    const computed = tierFormula ? concrete(tierFormula, facts) : null;
    if (!computed) throw new FineError("This benchmark cannot be computed on the phone.");
    const span = clamp(computed, statutory);
    const fen = recommend(span, offline.policy.position, offline.policy.round_to_yuan);
    if (fen > BigInt(Number.MAX_SAFE_INTEGER)) throw new FineError("This benchmark cannot be computed on the phone.");
    result.tier_range = range(span);
    result.amount_fen = Number(fen);
    return result;
  } catch (error) {
    if (error instanceof FineError) return { error: error.message, params: error.params };
    throw error;
  }
}
