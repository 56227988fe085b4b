"""The explanation in words: each step's code names an English message with ``{placeholders}``,
translated through the catalog (``zhifa.web.i18n``; zh_CN by default), so a party reads, e.g.,
"违法行为发生在2024年3月1日，适用当日有效的第1版权力事项、第2版裁量基准".

Parameters are typed (``model.Money``, dates, labels …) and formatted here for the locale: money
as yuan with thousands separators ("18,000元"), dates as "2024年3月1日", labels translated,
lists joined with "、".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from zhifa.catalog.discretion.model import Label, Listing, Money, Param, Percent, Step, Text
from zhifa.kit.money import yuan
from zhifa.web.i18n import DEFAULT_LOCALE, translate


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated when rendered."""
    return message


MESSAGES: dict[str, str] = {
    # Building blocks
    "money": N_("{amount} yuan"),
    "date": N_("{year}-{month:02d}-{day:02d}"),
    "range": N_("{lo} to {hi}"),
    "nothing": N_("none"),
    "article": N_("art. {number}"),
    "fact.value": N_("{fact}: {value}"),
    "condition": N_("{fact} {op} {value}"),
    "power.name": N_("{name} ({code})"),
    "power.outcome": N_("{power}: {outcome}"),
    "rules.power": N_("version {version} of the power item"),
    "rules.benchmark": N_("version {version} of the discretion benchmark"),
    "rules.policy": N_("version {version} of the local discretion rules"),
    "summary.no_penalty": N_("no penalty"),
    "summary.no_fine": N_("{level} level, no fine"),
    "summary.fine": N_("{level} level, a fine of {amount}"),
    "calc.fixed": N_("{total}"),
    "calc.up_to": N_("up to {max}"),
    "calc.per_unit": N_("{fact} {units}, at {rate} per {unit}, comes to {total}"),
    "calc.multiple": N_("{fact} {base}, {factors} times, comes to {total}"),
    "calc.percent": N_("{fact} {base}, at {factors} of it, comes to {total}"),
    "calc.capped": N_("{calc} (computed as {uncapped}, capped at {cap})"),
    # 1. Input
    "input": N_("The party is: {party}. Facts given: {facts}. Circumstances: {circumstances}."),
    # 2. Version (art. 37)
    "version.act_date": N_(
        "The act took place on {act_date}; the rules in force that day apply: {rules} "
        "(Administrative Penalty Law, art. 37)."
    ),
    "version.unchanged": N_(
        "These rules have not changed up to the decision date, {decision_date}."
    ),
    "version.later_not_for_party": N_(
        "The rules in force on the decision date ({rules}) no longer cover this kind of party, "
        "so the rules in force on the act date apply."
    ),
    "version.later_lighter": N_(
        "On the decision date, {decision_date}, the rules in force are {rules}. They are lighter "
        "for the party ({later}; the old rules: {earlier}), so the new rules apply "
        "(Administrative Penalty Law, art. 37)."
    ),
    "version.later_not_lighter": N_(
        "On the decision date, {decision_date}, the rules in force are {rules}. They are not "
        "lighter for the party ({later}; the old rules: {earlier}), so the rules in force on the "
        "act date apply (Administrative Penalty Law, art. 37)."
    ),
    # 3. Limitation (art. 36)
    "limitation.continuing": N_(
        "The act continued until {until}, so the limitation period runs from that day."
    ),
    "limitation.safety": N_(
        "The act concerns life, health or financial safety and caused harm, so the limitation "
        "period is {years} years."
    ),
    "limitation.discovered_assumed": N_(
        "No discovery date was given; the decision date, {date}, is taken."
    ),
    "limitation.within": N_(
        "The act was discovered on {discovered_on}, within the {years}-year limitation period "
        "from {start} to {end} (Administrative Penalty Law, art. 36)."
    ),
    "limitation.expired": N_(
        "The act was discovered on {discovered_on}, after the {years}-year limitation period "
        "ended on {end}: no penalty is given (Administrative Penalty Law, art. 36)."
    ),
    # 4. Exemptions (arts. 30, 33)
    "exempt.under_14": N_(
        "The party is under 14: no penalty is given, and the guardian is ordered to discipline "
        "them (Administrative Penalty Law, art. 30)."
    ),
    "exempt.no_fault": N_(
        "The party has proven that they were not at fault: no penalty is given "
        "(Administrative Penalty Law, art. 33, paragraph 2)."
    ),
    "exempt.minor": N_(
        "The violation is minor, was corrected promptly and caused no harm: no penalty is given "
        "(Administrative Penalty Law, art. 33, paragraph 1)."
    ),
    "exempt.first_offence": N_(
        "A first offence with slight or no harm, corrected promptly. The law says such an act "
        "may go unpunished; this benchmark and the local rules apply that, so no penalty is "
        "given (Administrative Penalty Law, art. 33, paragraph 1)."
    ),
    "exempt.first_offence_aggravated": N_(
        "A first offence with slight or no harm, corrected promptly, but with aggravating "
        "circumstances ({aggravating}): the first-offence exemption does not apply."
    ),
    "exempt.first_offence_not_in_benchmark": N_(
        "A first offence with slight or no harm, corrected promptly. The law says such an act "
        "may go unpunished, but this power's benchmark does not apply that exemption "
        "(Administrative Penalty Law, art. 33, paragraph 1)."
    ),
    "exempt.first_offence_not_in_policy": N_(
        "A first offence with slight or no harm, corrected promptly. The law says such an act "
        "may go unpunished, but the local discretion rules do not apply that exemption "
        "(Administrative Penalty Law, art. 33, paragraph 1)."
    ),
    "exempt.none": N_("No ground for giving no penalty applies."),
    "no_penalty.measures": N_(
        "When no penalty is given, the party is still educated and ordered to correct the act "
        "(Administrative Penalty Law, arts. 28 and 33)."
    ),
    # 5. Level
    "level.mandatory": N_(
        "Circumstances for which the law requires a lighter or reduced penalty: "
        "{circumstances} (Administrative Penalty Law, {articles}). The level is {level}."
    ),
    "level.no_minimum": N_(
        "The law sets no minimum fine for this act, so the penalty cannot be reduced below it; "
        "a lighter penalty is given instead."
    ),
    "level.mandatory_and_aggravating": N_(
        "There are aggravating circumstances as well ({aggravating}), so within the {level} "
        "level the recommendation goes to the top of its range."
    ),
    "level.emergency": N_(
        "The act breached emergency measures during an emergency: the penalty shall be heavier "
        "(Administrative Penalty Law, art. 49)."
    ),
    "level.offset": N_(
        "There are aggravating circumstances ({aggravating}) and mitigating ones "
        "({mitigating}); they offset each other, so the ordinary level applies."
    ),
    "level.aggravating": N_("Aggravating circumstances: {aggravating}. The level is heavier."),
    "level.mitigating": N_("Mitigating circumstances: {mitigating}. The level is lighter."),
    "level.ordinary": N_(
        "There are no mitigating or aggravating circumstances, so the ordinary level applies."
    ),
    # 6. Band, 7. tier
    "band": N_("The degree of the violation is “{band}” ({conditions})."),
    "tier.own": N_("The {level} tier of the benchmark applies."),
    "tier.own_situation": N_("The {level} tier of the benchmark applies: {situation}."),
    "tier.fallback": N_(
        "The benchmark has no {level} tier, so the amount is taken at {percent} of the "
        "ordinary tier's range."
    ),
    "tier.fallback_point": N_(
        "The benchmark sets the {level} level only as that point of the ordinary tier, so the "
        "aggravating circumstances do not move it."
    ),
    "tier.reduced_fallback": N_(
        "The benchmark has no reduced tier, so the fine lies between nothing and the statutory "
        "minimum."
    ),
    # 8. Amounts
    "amount.none": N_("The law sets no fine for this act; only the measures below apply."),
    "amount.statutory": N_("Statutory fine: {calc}."),
    "amount.tier": N_("Fine under the benchmark tier: {calc}."),
    "amount.reduced_range": N_(
        "A reduced fine lies between nothing and the statutory minimum of {minimum}."
    ),
    "amount.clamped_max": N_(
        "{computed} exceeds the statutory maximum of {limit}, so {limit} applies."
    ),
    "amount.clamped_reduced": N_(
        "A reduced fine may not exceed the statutory minimum of {limit}, so {limit} applies."
    ),
    "amount.clamped_min": N_(
        "The tier goes below the statutory minimum of {limit}, so {limit} applies."
    ),
    "amount.recommended": N_("Recommended fine: {amount}, at {percent} of the range {range}."),
    "amount.recommended_single": N_("Recommended fine: {amount}."),
    # 9. Art. 29
    "concurrent": N_(
        "The same act also breaches {others}. One act is fined only once, under the rule with "
        "the higher fine (Administrative Penalty Law, art. 29): {power} applies ({amount})."
    ),
    # 10. Chosen amount
    "chosen.none": N_("The fine decided, {chosen}, is the recommended amount."),
    "chosen.within_tier": N_(
        "The officer decided on {chosen} instead of the recommended {recommended}, inside the "
        "tier's range of {range}. Reason: {reason}"
    ),
    "chosen.outside_tier": N_(
        "The officer decided on {chosen} instead of the recommended {recommended}, outside the "
        "tier's range of {range}; this needs legal review. Reason: {reason}"
    ),
    "chosen.reduced_below_minimum": N_(
        "The officer decided on {chosen} instead of the recommended {recommended}, below the "
        "statutory minimum of {minimum} (a reduced penalty); this needs legal review. "
        "Reason: {reason}"
    ),
    # 11. Legal review
    "review.none": N_(
        "The discretion itself needs no legal review; whether the decision is a major one that "
        "needs review is decided separately."
    ),
    "review.required": N_("Legal review is required before the decision: {reasons}."),
    # 12. Simplified procedure (art. 51)
    "simple.allowed": N_(
        "A fine of {amount} on {party} does not exceed {cap}: the decision may be made on the "
        "spot under the simplified procedure (Administrative Penalty Law, art. 51)."
    ),
    "simple.warning": N_(
        "A warning only: the decision may be made on the spot under the simplified procedure "
        "(Administrative Penalty Law, art. 51)."
    ),
    "simple.over_cap": N_(
        "A fine of {amount} on {party} exceeds {cap}: the ordinary procedure applies "
        "(Administrative Penalty Law, art. 51)."
    ),
    "simple.other_penalties": N_(
        "The penalty includes {measures}, so it cannot be decided on the spot: the ordinary "
        "procedure applies (Administrative Penalty Law, art. 51)."
    ),
    "simple.not_applicable": N_(
        "There is neither a fine nor a warning, so the simplified procedure does not apply."
    ),
    # 13. Measures, 14. citations
    "measures": N_("Measures: {measures}."),
    "citations": N_("Legal basis: {citations}."),
}
SEPARATORS = {"zh_CN": "、", "en": ", "}
CN_DIGITS = "零一二三四五六七八九"


def render(step: Step | Text, locale: str = DEFAULT_LOCALE) -> str:
    """The step (or nested text) as a sentence in ``locale``."""
    params = {name: _param(value, locale) for name, value in step.params.items()}
    return translate(locale, MESSAGES[step.code], **params)


def _param(value: Param, locale: str) -> str:
    if isinstance(value, Money):
        return translate(locale, MESSAGES["money"], amount=yuan(value.fen))
    if isinstance(value, Label):
        return translate(locale, value.msgid)
    if isinstance(value, Percent):
        return f"{_plain(value.share * 100)}%"
    if isinstance(value, Text):
        return render(value, locale)
    if isinstance(value, Listing):
        separator = SEPARATORS.get(locale, ", ")
        return separator.join(_param(item, locale) for item in value.items)
    if isinstance(value, date):
        return translate(
            locale, MESSAGES["date"], year=value.year, month=value.month, day=value.day
        )
    if isinstance(value, Decimal):
        return _plain(value)
    return str(value)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def article(number: int) -> Text:
    """ "art. 32" / "第三十二条" (numbers up to 99 are all the 行政处罚法 steps need)."""
    return Text("article", {"number": number, "cn": cn_numeral(number)})


def cn_numeral(number: int) -> str:
    tens, ones = divmod(number, 10)
    if number < 10:
        return CN_DIGITS[number]
    head = "" if tens == 1 else CN_DIGITS[tens]
    return f"{head}十{CN_DIGITS[ones] if ones else ''}"
