"""Provider names as providers write them, not as the Organisation Data Service ships them.

ODS publishes every organisation name in capitals ("ZOBBY HOSPITALS NHS TRUST"); a
provider writes "Zobby Hospitals NHS Trust". A name already in mixed case is taken to be
written by someone who chose it and is left alone; a name in capitals is put in title
case, keeping the initialisms below in capitals and the short joining words below in
lower case (as NHS organisations write their own names: "Stoke-on-Trent",
"King's College Hospital NHS Foundation Trust", "Guy's and St Thomas'").
"""

from __future__ import annotations

import re

# Initialisms in the names of NHS trusts, integrated care boards and independent-sector
# providers that stay in capitals (NHS England's and ODS's own usage).
INITIALISMS = frozenset(
    {"NHS", "ICB", "ICS", "CCG", "PCT", "UK", "GP", "CIC", "LLP", "BMI", "HCA", "ISTC", "BPAS"}
)
# Words written in lower case inside a name (never as its first word).
JOINING_WORDS = frozenset({"and", "of", "the", "for", "in", "on", "at", "upon", "by", "with"})

_WORD = re.compile(r"[A-Za-z0-9']+")


def readable_name(name: str | None) -> str | None:
    """The name in the case a provider writes it (see the module's note)."""
    if not name or any(c.islower() for c in name):
        return name
    first = True

    def word(match: re.Match[str]) -> str:
        nonlocal first
        text, at_start = match.group(0), first
        first = False
        if text in INITIALISMS:
            return text
        lower = text.lower()
        if lower in JOINING_WORDS and not at_start:
            return lower
        return lower[:1].upper() + lower[1:]

    return _WORD.sub(word, name)


# How publishers write the feeds' names, for the words of a raw table's name.
_FEED_WORDS = {
    "proms": "PROMs", "shmi": "SHMI", "hcai": "HCAI", "fft": "FFT", "kh03": "KH03",
    "vte": "VTE", "njr": "NJR", "ods": "ODS", "nrls": "NRLS", "nhfd": "NHFD", "bpt": "BPT",
}  # fmt: skip


def readable_table(code: str) -> str:
    """A raw table's name in words (`proms_records` -> "PROMs records"): the documents name
    what a file holds, never the pipeline's identifier for it (the CSV keeps that)."""
    words = [_FEED_WORDS.get(w, w) for w in code.split("_") if w]
    if not words:
        return code
    first = words[0]
    words[0] = first if first in _FEED_WORDS.values() else first[:1].upper() + first[1:]
    return " ".join(words)


__all__ = ["readable_name", "readable_table"]
