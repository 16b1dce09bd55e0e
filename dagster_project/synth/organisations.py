"""Fictional providers and the ODS `etr.csv` extract that describes them.

Codes start with `Z` and place names are invented, so synthetic rows can never
be mistaken for (or joined to) a real organisation. Every provider gets a role:
most are null, a handful carry a planted effect the pipeline must find.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REGIONS: dict[str, str] = {
    "Y56": "London",
    "Y58": "South West",
    "Y59": "South East",
    "Y60": "Midlands",
    "Y61": "East of England",
    "Y62": "North West",
    "Y63": "North East and Yorkshire",
}
# A provider one of whose VTE rows arrives under a mistyped code (validation quarantines it).
MISTYPED_ROLE = "mistyped_code"

NULL_ROLE = "null"
# Special roles, in the order they are dealt to a seeded shuffle of the providers.
ROLES: tuple[str, ...] = (
    "hip_negative_outlier_99.8",
    "hip_positive_outlier_99.8",
    "hip_negative_outlier_95",
    "hip_insufficient_records",
    "knee_negative_outlier_99.8",
    "knee_positive_outlier_99.8",
    "knee_negative_outlier_95",
    "knee_insufficient_records",
    "hip_hes_suppressed",
    "mistyped_code",
)
MIN_PROVIDERS = len(ROLES) + 2

_PREFIXES = (
    "ZED", "ZAN", "ZOR", "ZEL", "ZUM", "ZIB", "ZAR", "ZOL", "ZEV", "ZIM",
    "ZAV", "ZOB", "ZUL", "ZEP", "ZIR", "ZAK", "ZOT", "ZEB", "ZUN", "ZIL",
)  # fmt: skip
_SUFFIXES = (
    "SHIRE", "FORD", "BY", "TON", "WICK", "HAM", "BRIDGE", "MOUTH",
    "LEY", "DALE", "CASTER", "STEAD", "COMBE", "WORTH", "MERE",
)  # fmt: skip
_KINDS = (
    "HOSPITALS NHS TRUST",
    "HOSPITALS NHS FOUNDATION TRUST",
    "TEACHING HOSPITALS NHS FOUNDATION TRUST",
    "UNIVERSITY HOSPITALS NHS TRUST",
    "ORTHOPAEDIC CENTRE",
    "NHS TREATMENT CENTRE",
)
_STREETS = ("HOSPITAL ROAD", "INFIRMARY LANE", "LONDON ROAD", "STATION ROAD", "PARK AVENUE")
_ETR_FIELDS = 27


@dataclass(frozen=True)
class Provider:
    """One synthetic provider; `size` scales its yearly volumes."""

    code: str
    name: str
    place: str
    region_code: str
    icb_code: str
    role: str
    size: float

    @property
    def mistyped(self) -> str:
        """The code as a careless hand would type it: its first 0 as the letter O."""
        return self.code.replace("0", "O", 1)


def provider_code(index: int) -> str:
    """`ZA001` ... `ZA999`, `ZB001` ...: five characters, never a real ODS code."""
    return f"Z{chr(ord('A') + index // 999)}{index % 999 + 1:03d}"


def make_providers(count: int, seed: int) -> list[Provider]:
    """Providers sorted by code, regions dealt round a shuffle so all seven appear."""
    if not MIN_PROVIDERS <= count <= 20 * 999:
        raise ValueError(f"providers must be between {MIN_PROVIDERS} and {20 * 999}")
    rng = np.random.Generator(np.random.PCG64([seed, 0]))
    places = [p + s for p in _PREFIXES for s in _SUFFIXES]
    place_order = rng.permutation(len(places))
    kinds = rng.integers(0, len(_KINDS), count)
    region_codes = list(REGIONS)
    region_rank = np.empty(count, dtype=int)
    region_rank[rng.permutation(count)] = np.arange(count)
    role_order = rng.permutation(count)
    icb_pick = rng.integers(0, 2, count)
    sizes = np.clip(rng.lognormal(0.0, 0.4, count), 0.4, 2.5)
    roles = [NULL_ROLE] * count
    for role, index in zip(ROLES, role_order, strict=False):
        roles[int(index)] = role
    providers = []
    for i in range(count):
        place = places[place_order[i % len(places)]]
        if i >= len(places):
            place = f"{place} {i // len(places) + 1}"
        region = int(region_rank[i]) % len(region_codes)
        providers.append(
            Provider(
                code=provider_code(i),
                name=f"{place} {_KINDS[kinds[i]]}",
                place=place,
                region_code=region_codes[region],
                icb_code=f"QZ{chr(ord('A') + 2 * region + int(icb_pick[i]))}",
                role=roles[i],
                size=float(sizes[i]),
            )
        )
    return providers


def _etr_row(code: str, name: str, region: str, icb: str, place: str, k: int) -> list[str]:
    """One ODS record: fields 1-12 by name, 18 telephone, 22 amended indicator, rest blank."""
    row = [""] * _ETR_FIELDS
    row[:12] = [
        code,
        name,
        region,
        icb,
        f"{place} GENERAL HOSPITAL",
        _STREETS[k % len(_STREETS)],
        "",
        place,
        f"{place[:3]}SHIRE",
        f"ZZ{k % 9 + 1} {k % 10}{chr(65 + k % 26)}{chr(65 + (k * 7) % 26)}",
        f"{1991 + k % 15}0401",
        "",
    ]
    row[17] = f"01632 960{k % 1000:03d}"  # Ofcom's range reserved for fiction
    row[21] = "0"
    return row


def write_etr(path: Path, providers: list[Provider]) -> int:
    """Write `etr.csv` as ODS ships it: no header, every field quoted, CRLF.

    Every provider is listed; two non-surgical trusts are added, as a real extract lists
    organisations that never appear in PROMs.
    """
    rows = [
        _etr_row(p.code, p.name, p.region_code, p.icb_code, p.place, k)
        for k, p in enumerate(providers)
    ]
    lead = providers[0]
    extras = ("AMBULANCE SERVICE NHS TRUST", "PARTNERSHIP NHS FOUNDATION TRUST")
    for n, kind in enumerate(extras, start=1):
        code, name = f"ZY{n:03d}", f"{lead.place} {kind}"
        k = len(providers) + n
        rows.append(_etr_row(code, name, lead.region_code, lead.icb_code, lead.place, k))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    return len(rows)
