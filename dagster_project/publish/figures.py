"""The one rounding rule for every figure a reader sees.

A figure is rounded half away from zero on its shortest decimal form (what `repr`
gives), so 248/265 = 93.58...% is 93.6% in every table, sentence, chart and CSV,
and 2.675 is 2.68 whatever its binary approximation. Python's own formatting rounds
the binary value half to even, which is why the same figure once printed with
different digits in two places. The dbt macro `round_half_away` applies the same
rule to the figures dbt writes into reasons.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MINUS = "\u2212"


def rounded(value: float | Decimal, decimals: int) -> Decimal:
    """`value` to `decimals` places, half away from zero (Decimal's ROUND_HALF_UP)."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def plain(value: float | Decimal, decimals: int) -> str:
    """Digits only (`-1234.6`): what a CSV holds, rounded by the one rule."""
    text = f"{rounded(value, decimals):f}"
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


def format_number(value: float | Decimal, decimals: int) -> str:
    """Fixed decimals, thousands separators and a true minus sign (read as "minus")."""
    text = f"{rounded(value, decimals):,f}"
    if text.startswith("-"):
        text = text[1:] if Decimal(text[1:].replace(",", "")) == 0 else MINUS + text[1:]
    return text


def format_percent(fraction: float, decimals: int = 1) -> str:
    """A fraction (0.9358) as a percentage (93.6%), scaled exactly (0.285 is 28.5, not
    28.499999999999996, before rounding)."""
    return format_number(as_percent(fraction), decimals) + "%"


def as_percent(fraction: float) -> Decimal:
    """A fraction times 100, in decimal so the scaling adds no binary error."""
    return Decimal(repr(float(fraction))) * 100


def format_share(fraction: float, threshold: float | None = None) -> str:
    """A fraction as a percentage, compared with `threshold` where it is judged against one.

    One decimal place by the one rule, except that a figure one decimal place would round
    onto its threshold from the other side keeps the decimals that show the side (0.8499
    against 0.85 is 84.99%, never 85.0%): the dbt macro `percent_text` does the same, so a
    reason and a table agree.
    """
    exact = as_percent(fraction)
    if threshold is None or fraction == threshold:
        return format_number(exact, 1) + "%"
    limit = as_percent(threshold)
    for places in (1, 2):
        if rounded(exact, places) != rounded(limit, places):
            return format_number(exact, places) + "%"
    return format_number(exact, 3) + "%"
