"""Month names as publishers write them: `March`, `Mar`, `mar.` or `3`."""

from __future__ import annotations

MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def month_number(word: str) -> int | None:
    """1-12 for a month name (or an abbreviation of at least three letters) or number."""
    word = word.strip().lower().rstrip(".")
    if word.isdigit():
        return int(word) if 1 <= int(word) <= 12 else None
    if len(word) < 3:
        return None
    return next((i for i, name in enumerate(MONTH_NAMES, 1) if name.startswith(word)), None)
