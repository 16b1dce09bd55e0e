"""Figures written with thousands separators, read as the numbers they are.

Publishers group digits in threes with a comma (`"1,234"`, quoted in a CSV), a
space (UKHSA's archive tables: ` 3 231 `), a non-breaking space (U+00A0), a
thin space (U+2009) or a narrow no-break space (U+202F, what spreadsheets in a
French or Scandinavian locale write). A decimal comma looks alike (`95,1`), and
reading it as a separator would turn 95.1 into 951, so only a figure whose every
group after the first has exactly three digits, all with the same separator, is
ungrouped; anything else is left as written for the suites to refuse.

Validation ungroups every column its table declares numeric before the suite
runs (`validation/run.py`), so every feed reads them the same way.
"""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SEPARATORS = ", \u00a0\u2009\u202f"
_PADDING = " \t\u00a0\u2009\u202f"
# What a grouped figure looks like; the separators must also all be the same one.
_GROUPED = re.compile(rf"[-+]?\d{{1,3}}(?:([{SEPARATORS}])\d{{3}})(?:\1\d{{3}})*(?:\.\d+)?")
# The same without the back-reference (Arrow's regular expressions have none): a cheap
# first pass over a whole column, so only the few candidates are looked at again.
_CANDIDATE = rf"^[{_PADDING}]*[-+]?\d{{1,3}}(?:[{SEPARATORS}]\d{{3}})+(?:\.\d+)?[{_PADDING}]*$"
_SEPARATOR = re.compile(rf"[{SEPARATORS}]")


def ungroup(text: str | None) -> str | None:
    """`1,234` -> `1234`, `12 345 678` -> `12345678`; anything else (`95,1`, `*`, `1,23`,
    `1,234 567`) unchanged. Surrounding spaces go either way."""
    if text is None:
        return None
    value = text.strip(_PADDING)
    return _SEPARATOR.sub("", value) if _GROUPED.fullmatch(value) else text


def ungroup_column(values: pd.Series) -> pd.Series:
    """A column of text with its grouped figures ungrouped; untouched when it has none
    (the usual case, decided in one vectorised pass)."""
    if values.empty or pd.api.types.is_numeric_dtype(values):
        return values
    text = pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
    candidates = pc.fill_null(pc.match_substring_regex(text, _CANDIDATE), False)
    if not pc.any(candidates).as_py():
        return values
    out = values.astype("object").copy()
    where = candidates.to_numpy(zero_copy_only=False)
    out.loc[where] = [ungroup(v) for v in values.loc[where]]
    return out.astype(values.dtype)


def ungroup_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`frame` with `columns` (those present) ungrouped; the same frame if none changed."""
    changed = {}
    for column in columns:
        if column in frame.columns:
            new = ungroup_column(frame[column])
            if new is not frame[column]:
                changed[column] = new
    return frame.assign(**changed) if changed else frame
