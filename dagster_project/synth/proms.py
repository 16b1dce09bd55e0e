"""Synthetic PROMs record-level and PartLink files in NHS Digital's published layouts.

Scores come first, built from questionnaire items as real ones are. The
predicted columns are then set to `actual - designed residual`, where each
provider's designed residuals are mean-centred and shifted by its planted
effect: so the outcome of NHS Digital's funnel-plot method is known exactly.
Providers with nothing planted are shifted a little too (within NULL_Z standard
errors), so funnel plots look like real ones without anyone being flagged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dagster_project.ingest.proms import PARTLINK_PROCEDURES
from dagster_project.synth.organisations import Provider

# --- published layouts ----------------------------------------------------------------------

_COMORBIDITIES = (
    "Heart Disease", "High Bp", "Stroke", "Circulation", "Lung Disease", "Diabetes",
    "Kidney Disease", "Nervous System", "Liver Disease", "Cancer", "Depression", "Arthritis",
)  # fmt: skip
_DIMENSIONS = ("Mobility", "Self-Care", "Activity", "Discomfort", "Anxiety")
_POST_QUESTIONS = (
    "Satisfaction", "Sucess", "Allergy", "Bleeding", "Wound", "Urine", "Further Surgery",
    "Readmitted",
)  # fmt: skip
COMMON_COLUMNS: tuple[str, ...] = (
    "Provider Code", "Procedure", "Revision Flag", "Year", "Age Band", "Gender",
    "Pre-Op Q Assisted", "Pre-Op Q Assisted By", "Pre-Op Q Symptom Period",
    "Pre-Op Q Previous Surgery", "Pre-Op Q Living Arrangements", "Pre-Op Q Disability",
    *_COMORBIDITIES,
    *(f"Pre-Op Q {d}" for d in _DIMENSIONS),
    "Pre-Op Q EQ5D Index Profile", "Pre-Op Q EQ5D Index",
    "Post-Op Q Assisted", "Post-Op Q Assisted By", "Post-Op Q Living Arrangements",
    "Post-Op Q Disability",
    *(f"Post-Op Q {d}" for d in _DIMENSIONS),
    *(f"Post-Op Q {q}" for q in _POST_QUESTIONS),
    "Post-Op Q EQ5D Index Profile", "Post-Op Q EQ5D Index",
)  # fmt: skip

EQ5D_MEASURE = "EQ-5D Index"
VAS_MEASURE = "EQ VAS"


@dataclass(frozen=True)
class Procedure:
    """What differs between the hip and the knee files."""

    key: str
    label: str
    items: tuple[str, ...]
    eq5d_predicted: str
    vas_predicted: str
    oxford_predicted: str
    oxford_measure: str
    share: float  # of a provider's records
    female: float
    stream: int

    @property
    def header(self) -> list[str]:
        pre = [f"{self.label} Pre-Op Q {i}" for i in self.items]
        post = [f"{self.label} Post-Op Q {i}" for i in self.items]
        return [
            *COMMON_COLUMNS,
            self.eq5d_predicted,
            "Pre-Op Q EQ VAS",
            "Post-Op Q EQ VAS",
            self.vas_predicted,
            *pre,
            f"{self.label} Pre-Op Q Score",
            *post,
            f"{self.label} Post-Op Q Score",
            self.oxford_predicted,
        ]

    @property
    def measures(self) -> tuple[str, str, str]:
        return (self.oxford_measure, EQ5D_MEASURE, VAS_MEASURE)

    def groups(self) -> dict[str, int]:
        """Published procedure group name -> revision flag."""
        return {f"{self.label} Primary": 0, f"{self.label} Revision": 1}

    def file_name(self, year: str) -> str:
        return f"{self.label} Provider {year_code(year)}.csv"


def partlink_file_name(year: str) -> str:
    return f"PartLink Hip and Knee Replacement {year_code(year)}.csv"


HIP = Procedure(
    key="hip",
    label="Hip Replacement",
    items=("Pain", "Sudden Pain", "Night Pain", "Washing", "Transport", "Dressing",
           "Shopping", "Walking", "Limping", "Stairs", "Standing", "Work"),
    eq5d_predicted="Hip Replacement EQ5D Index Post-Op Q Predicted",
    vas_predicted="Hip Replacement EQ VAS Post-Op Q Predicted",
    oxford_predicted="Hip Replacement OHS Post-Op Q Predicted",
    oxford_measure="Oxford Hip Score",
    share=0.46,
    female=0.61,
    stream=1,
)  # fmt: skip
KNEE = Procedure(
    key="knee",
    label="Knee Replacement",
    items=("Pain", "Night Pain", "Washing", "Transport", "Walking", "Standing",
           "Limping", "Kneeling", "Work", "Confidence", "Shopping", "Stairs"),
    eq5d_predicted="Knee Replacement EQ 5D Index Post-Op Q Predicted",
    vas_predicted="Knee Replacement EQ VAS_Post-Op Q Predicted",
    oxford_predicted="Knee Replacement OKS Post-Op Q Predicted",
    oxford_measure="Oxford Knee Score",
    share=0.54,
    female=0.56,
    stream=2,
)  # fmt: skip
PROCEDURES = (HIP, KNEE)

PARTLINK_BLOCKS = PARTLINK_PROCEDURES  # the layout's procedure blocks, in published order
_PARTLINK_FIELDS = (
    "Total HES Procedures", "Total Pre-Op Qs", "Participation Rate", "Total Linked",
    "Linkage rate", "Total Q2s sent to date", "Issue rate", "Total Q2s returned to date",
    "Response rate",
)  # fmt: skip
PARTLINK_HEADER = [
    "Organisation Code",
    "Organisation Name",
    *(f"{b} - {f}" for b in PARTLINK_BLOCKS for f in _PARTLINK_FIELDS),
]

# --- the method the data are planted for (NHS Digital, PROMs methodology v12) ----------------

Z95, Z998 = 1.959964, 3.090232
MIN_MODELLED = 30
NULL_Z = 1.0
# Role -> (procedure key, target z on the primary group's Oxford score).
PLANTED_Z = {
    "hip_negative_outlier_99.8": ("hip", -6.0),
    "hip_positive_outlier_99.8": ("hip", 6.0),
    "hip_negative_outlier_95": ("hip", -2.5),
    "knee_negative_outlier_99.8": ("knee", -6.0),
    "knee_positive_outlier_99.8": ("knee", 6.0),
    "knee_negative_outlier_95": ("knee", -2.5),
}
# Role -> procedure key; effect of one residual SD, on too few records to be judged.
INSUFFICIENT = {"hip_insufficient_records": "hip", "knee_insufficient_records": "knee"}
SUPPRESSED_ROLE = "hip_hes_suppressed"


def planted(role: str) -> tuple[Procedure, float | None] | None:
    """Where a role's effect sits: its procedure and target z (None: too few records to judge)."""
    if role in PLANTED_Z:
        key, z = PLANTED_Z[role]
        return (HIP if key == "hip" else KNEE), z
    if role in INSUFFICIENT:
        return (HIP if INSUFFICIENT[role] == "hip" else KNEE), None
    return None


def status_for(z: float, n: int) -> str:
    """The published outlier vocabulary for one provider, group and measure."""
    if n == 0:
        return "No procedures"
    if n < MIN_MODELLED:
        return "Insufficient records"
    if z < -Z998:
        return "Negative outlier (99.8%)"
    if z < -Z95:
        return "Negative outlier (95%)"
    if z > Z998:
        return "Positive outlier (99.8%)"
    if z > Z95:
        return "Positive outlier (95%)"
    return "Not an outlier"


def funnel_z(residual: np.ndarray, provider: np.ndarray, providers: int) -> dict:
    """Per-provider modelled records and z against England (residual NaN = not modelled).

    z = (provider mean residual - England mean residual) / (England SD / sqrt(n)),
    which is the adjusted health gain's distance from England's in control-limit units.
    """
    use = ~np.isnan(residual)
    r, p = residual[use], provider[use]
    n = np.bincount(p, minlength=providers)
    sums = np.bincount(p, weights=r, minlength=providers)
    mu = float(r.mean()) if r.size else math.nan
    sd = float(r.std(ddof=1)) if r.size > 1 else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (sums / n - mu) / (sd / np.sqrt(n))
    return {"n": n, "mean": sums / np.maximum(n, 1), "z": z, "england_mean": mu, "england_sd": sd}


# --- EQ-5D-3L UK TTO value set (Dolan 1997); data generation, not methodology ----------------

_EQ5D_CONSTANT, _EQ5D_N3 = 0.081, 0.269
_EQ5D_DECREMENTS = np.array(
    [[0, 0.069, 0.314], [0, 0.104, 0.214], [0, 0.036, 0.094], [0, 0.123, 0.386], [0, 0.071, 0.236]]
)


def eq5d_index(levels: np.ndarray) -> np.ndarray:
    """Index for rows of five levels 1-3; NaN where any level is 9 (not answered)."""
    levels = np.asarray(levels)
    ok = (levels <= 3).all(axis=1)
    safe = np.where(ok[:, None], levels, 1) - 1
    index = (
        1
        - _EQ5D_CONSTANT * (safe > 0).any(axis=1)
        - _EQ5D_N3 * (safe == 2).any(axis=1)
        - _EQ5D_DECREMENTS[np.arange(5), safe].sum(axis=1)
    )
    return np.where(ok, np.round(index, 3), np.nan)


# --- record generation -------------------------------------------------------------------------

DEFAULT_RECORDS = 340  # per provider-year, hip and knee together
_REVISION_SHARE = 0.06
_PLANTED_MIN_PRIMARY = 80
_AGE_BANDS = ("20 to 29", "30 to 39", "40 to 49", "50 to 59", "60 to 69", "70 to 79",
              "80 to 89", "90 to 120")  # fmt: skip
_AGE_P = (0.0002, 0.0011, 0.0158, 0.1187, 0.3220, 0.4044, 0.1376, 0.0002)
# Marginal level shares (levels 1-3) per dimension, pre- and post-operatively.
_EQ_PRE = ((0.071, 0.925, 0.004), (0.435, 0.553, 0.012), (0.057, 0.746, 0.197),
           (0.009, 0.547, 0.444), (0.579, 0.372, 0.049))  # fmt: skip
_EQ_POST = ((0.613, 0.386, 0.001), (0.820, 0.174, 0.006), (0.580, 0.389, 0.031),
            (0.574, 0.391, 0.035), (0.817, 0.165, 0.018))  # fmt: skip
_ITEM_OFFSETS = np.array([-0.1, 0.02, -0.04, 0.08, 0.06, 0.01, -0.02, 0.03, -0.05, 0.04, 0, -0.03])
_COMORBIDITY_P = (0.088, 0.38, 0.014, 0.048, 0.084, 0.095, 0.02, 0.008, 0.006, 0.056, 0.084, 0.72)
# Independent categorical answers: column -> (codes, shares).
_CATEGORICAL = {
    "Pre-Op Q Assisted": ((2, 1, 9), (0.84, 0.15, 0.01)),
    "Pre-Op Q Symptom Period": ((1, 2, 3, 4, 9), (0.12, 0.68, 0.12, 0.07, 0.01)),
    "Pre-Op Q Living Arrangements": ((1, 2, 3, 4, 9), (0.736, 0.247, 0.001, 0.004, 0.012)),
    "Pre-Op Q Disability": ((1, 2, 9), (0.516, 0.427, 0.057)),
    "Post-Op Q Assisted": ((2, 1, 9), (0.93, 0.06, 0.01)),
    "Post-Op Q Assisted By": ((1, 2, 3, 4, 5, 6, 9),
                              (0.063, 0.009, 0.004, 0.006, 0.006, 0.021, 0.891)),
    "Post-Op Q Disability": ((1, 2, 9), (0.275, 0.688, 0.037)),
    "Post-Op Q Allergy": ((1, 2, 9), (0.094, 0.821, 0.085)),
    "Post-Op Q Bleeding": ((1, 2, 9), (0.034, 0.853, 0.113)),
    "Post-Op Q Wound": ((1, 2, 9), (0.073, 0.828, 0.099)),
    "Post-Op Q Urine": ((1, 2, 9), (0.110, 0.794, 0.096)),
    "Post-Op Q Further Surgery": ((1, 2, 9), (0.021, 0.956, 0.023)),
    "Post-Op Q Readmitted": ((1, 2, 9), (0.063, 0.913, 0.024)),
}  # fmt: skip
# Outcome-linked ordinal answers: column -> (shares of 1..5, share not answered).
_ORDINAL = {
    "Post-Op Q Satisfaction": ((0.439, 0.334, 0.157, 0.052, 0.018), 0.025),
    "Post-Op Q Sucess": ((0.867, 0.084, 0.024, 0.014, 0.011), 0.023),
}


@dataclass
class ProcedureYear:
    """One procedure's records for one year, as written, with the residuals behind them."""

    procedure: Procedure
    year: str
    counts: np.ndarray  # (providers, 2) records: primary, revision
    provider: np.ndarray  # provider index per record
    revision: np.ndarray  # 0 or 1 per record
    residual: dict[str, np.ndarray]  # measure -> actual - predicted as written; NaN if not modelled
    columns: dict[str, np.ndarray]  # published column -> text per record

    def write(self, path: Path) -> int:
        """CRLF and no quoting, like the published packs."""
        header = self.procedure.header
        cells = [self.columns[name].tolist() for name in header]
        body = "".join(",".join(row) + "\r\n" for row in zip(*cells, strict=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((",".join(header) + "\r\n" + body).encode("utf-8"))
        return len(self.provider)


def year_code(year: str) -> str:
    """`2023-24` -> `2324`, as in the published file names."""
    if not re.fullmatch(r"\d{4}-\d{2}", year) or (int(year[:4]) + 1) % 100 != int(year[5:]):
        raise ValueError(f"financial year must look like 2023-24, not {year!r}")
    return year[2:4] + year[5:]


def generate(
    procedure: Procedure,
    year: str,
    providers: list[Provider],
    seed: int,
    records_per_provider: int | None = None,
) -> ProcedureYear:
    """All providers' records for one procedure and year, with planted effects applied."""
    rng = np.random.Generator(np.random.PCG64([seed, int(year[:4]), procedure.stream]))
    counts = _record_counts(procedure, providers, rng, records_per_provider)
    provider, revision = _layout(counts, rng)
    n = provider.size
    cols: dict[str, np.ndarray] = {}

    codes = np.array([p.code for p in providers], dtype=object)
    cols["Provider Code"] = codes[provider]
    cols["Procedure"] = np.full(n, procedure.label, dtype=object)
    cols["Revision Flag"] = _text(revision)
    cols["Year"] = np.full(n, f"{year[:4]}/{year[5:]}", dtype=object)
    _demographics(cols, procedure, provider, rng)
    for name, (codes_, shares) in _CATEGORICAL.items():
        cols[name] = _text(_choice(rng, codes_, shares, n))
    cols["Pre-Op Q Assisted By"] = np.full(n, "0", dtype=object)
    previous = _choice(rng, (1, 2, 9), (0.094, 0.9, 0.006), n)
    cols["Pre-Op Q Previous Surgery"] = _text(np.where(revision == 1, 1, previous))
    living = _choice(rng, (1, 2, 3, 4, 9), (0.709, 0.255, 0.002, 0.003, 0.031), n)
    pre_living = cols["Pre-Op Q Living Arrangements"]
    cols["Post-Op Q Living Arrangements"] = np.where(rng.random(n) < 0.9, pre_living, _text(living))
    for name, p in zip(_COMORBIDITIES, _COMORBIDITY_P, strict=True):
        cols[name] = _text(np.where(rng.random(n) < p, 1, 9))

    # Latent health (0 worst, 1 best) drives every outcome; revisions start and end worse.
    pre_h = rng.beta(3.4, 5.0, n) * np.where(revision == 1, 0.8, 1.0)
    deficit = rng.beta(1.3, 5.6, n) * (1.2 - 0.6 * pre_h) * np.where(revision == 1, 1.7, 1.0)
    post_h = np.clip(1 - deficit, 0.02, 0.99)

    pre_score = _oxford(cols, procedure, "Pre-Op", pre_h, rng)
    post_score = _oxford(cols, procedure, "Post-Op", post_h, rng)
    pre_index = _eq5d(cols, "Pre-Op", pre_h, _EQ_PRE, 0.04, rng)
    post_index = _eq5d(cols, "Post-Op", post_h, _EQ_POST, 0.03, rng)
    pre_vas = _vas(cols, "Pre-Op Q EQ VAS", 38 + 60 * pre_h, 0.08, rng)
    post_vas = _vas(cols, "Post-Op Q EQ VAS", 30 + 56 * post_h, 0.05, rng)
    for name, (shares, missing) in _ORDINAL.items():
        answer = _ordinal(-post_h + rng.normal(0, 0.08, n), shares) + 1
        cols[name] = _text(np.where(rng.random(n) < missing, 9, answer))

    # Stand-in for the national case-mix model: smooth in the pre-op score plus a
    # patient-level case-mix term, so expected scores vary as published ones do.
    casemix = rng.normal(0, 1, (n, 3))
    measures = {
        procedure.oxford_measure: (
            pre_score, post_score, -12 * np.exp(-0.025 * pre_score) + 2.5 * casemix[:, 0],
            procedure.oxford_predicted, (0.0, 47.5),
        ),
        EQ5D_MEASURE: (
            pre_index, post_index, 0.3 * pre_index + 0.05 * casemix[:, 1],
            procedure.eq5d_predicted, (-0.5, 1.0),
        ),
        VAS_MEASURE: (
            pre_vas, post_vas, 0.35 * pre_vas + 3 * casemix[:, 2],
            procedure.vas_predicted, (5.0, 97.0),
        ),
    }  # fmt: skip
    design = _Design(cell=provider * 2 + revision, cells=2 * len(providers))
    residual: dict[str, np.ndarray] = {}
    for k, (measure, (pre, post, model, column, bounds)) in enumerate(measures.items()):
        modelled = ~np.isnan(pre) & ~np.isnan(post)
        # Providers with no planted effect still differ a little, as real ones do, but
        # never by more than NULL_Z: far inside the 95% limits, so they are never flagged.
        spread = np.random.Generator(np.random.PCG64([seed, int(year[:4]), procedure.stream, k]))
        background = spread.uniform(-NULL_Z, NULL_Z, design.cells)
        planting = measure == procedure.oxford_measure
        effect = _plant(
            design, post, model, modelled, bounds, providers, procedure, background, planting
        )
        expected = design.predicted(post, model, modelled, effect, bounds)
        text, written = _predicted(expected, modelled)
        cols[column] = text
        residual[measure] = post - written
    return ProcedureYear(procedure, year, counts, provider, revision, residual, cols)


def _record_counts(
    procedure: Procedure, providers: list[Provider], rng: np.random.Generator, total: int | None
) -> np.ndarray:
    """Primary and revision records per provider; roles pin the volumes they need."""
    sizes = np.array([p.size for p in providers])
    mean = (total or DEFAULT_RECORDS) * procedure.share * sizes
    counts = np.stack(
        [
            np.maximum(8, rng.poisson(mean * (1 - _REVISION_SHARE))),
            np.maximum(1, rng.poisson(mean * _REVISION_SHARE)),
        ],
        axis=1,
    )
    for i, p in enumerate(providers):
        where = planted(p.role)
        if where and where[0] == procedure:
            if where[1] is None:
                counts[i, 0] = rng.integers(16, 27)
            else:
                counts[i, 0] = max(counts[i, 0], _PLANTED_MIN_PRIMARY)
        elif p.role == SUPPRESSED_ROLE and procedure == HIP:
            counts[i] = (3, 1)
    return counts


def _layout(counts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Records grouped by provider code, primary and revision mixed within a provider."""
    totals = counts.sum(axis=1)
    provider = np.repeat(np.arange(len(counts)), totals)
    starts = np.repeat(np.cumsum(totals) - totals, totals)
    revision = (np.arange(provider.size) - starts >= np.repeat(counts[:, 0], totals)).astype(int)
    order = np.lexsort((rng.random(provider.size), provider))
    return provider, revision[order]


def _demographics(
    cols: dict, procedure: Procedure, provider: np.ndarray, rng: np.random.Generator
) -> None:
    """Age band and gender, both `*` where fewer than six of a provider's patients share them."""
    n = provider.size
    age = _choice(rng, range(len(_AGE_BANDS)), _AGE_P, n)
    gender = np.where(rng.random(n) < procedure.female, 2, 1)
    _, group, size = np.unique(
        provider * 100 + age * 10 + gender, return_inverse=True, return_counts=True
    )
    hidden = size[group] < 6
    cols["Age Band"] = np.where(hidden, "*", np.array(_AGE_BANDS, dtype=object)[age])
    cols["Gender"] = np.where(hidden, "*", _text(gender))


def _oxford(
    cols: dict, procedure: Procedure, when: str, health: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Twelve items 0-4 (9 = not answered); the score is their sum, NaN if any is missing."""
    n = health.size
    p = np.clip(health[:, None] + _ITEM_OFFSETS[None, :], 0.01, 0.99)
    items = rng.binomial(4, p)
    skipped = rng.random(n) < 0.012
    items[skipped, rng.integers(0, 12, n)[skipped]] = 9
    twice = skipped & (rng.random(n) < 0.3)
    items[twice, rng.integers(0, 12, n)[twice]] = 9
    for j, item in enumerate(procedure.items):
        cols[f"{procedure.label} {when} Q {item}"] = _text(items[:, j])
    score = np.where((items == 9).any(axis=1), np.nan, items.sum(axis=1))
    cols[f"{procedure.label} {when} Q Score"] = _text(score)
    return score


def _eq5d(
    cols: dict, when: str, health: np.ndarray, shares: tuple, missing: float,
    rng: np.random.Generator,
) -> np.ndarray:  # fmt: skip
    """Five dimensions 1-3 tied to latent health (9 = not answered), profile and index."""
    n = health.size
    levels = np.stack(
        [_ordinal(1 - health + rng.normal(0, 0.12, n), s) + 1 for s in shares], axis=1
    )
    gap = rng.random(n) < missing
    levels[gap, rng.integers(0, 5, n)[gap]] = 9
    for j, dim in enumerate(_DIMENSIONS):
        cols[f"{when} Q {dim}"] = _text(levels[:, j])
    cols[f"{when} Q EQ5D Index Profile"] = _text(levels @ np.array([10000, 1000, 100, 10, 1]))
    index = eq5d_index(levels)
    cols[f"{when} Q EQ5D Index"] = _text(index, decimals=3)
    return index


def _vas(
    cols: dict, column: str, centre: np.ndarray, missing: float, rng: np.random.Generator
) -> np.ndarray:
    """EQ VAS 0-100, mostly marked at multiples of five; 999 when not answered."""
    n = centre.size
    raw = np.clip(centre + rng.normal(0, 13, n), 0, 100)
    vas = np.where(rng.random(n) < 0.8, np.round(raw / 5) * 5, np.round(raw))
    vas = np.where(rng.random(n) < missing, np.nan, vas)
    cols[column] = _text(np.where(np.isnan(vas), 999, vas))
    return vas


@dataclass(frozen=True)
class _Design:
    """Sets expected scores so each provider-group's mean residual is exactly its effect."""

    cell: np.ndarray  # provider * 2 + revision flag, per record
    cells: int

    def mean(self, values: np.ndarray, use: np.ndarray) -> np.ndarray:
        sums = np.bincount(self.cell[use], weights=values[use], minlength=self.cells)
        return sums / np.maximum(np.bincount(self.cell[use], minlength=self.cells), 1)

    def predicted(
        self,
        post: np.ndarray,
        model: np.ndarray,
        use: np.ndarray,
        effect: np.ndarray,
        bounds: tuple[float, float],
    ) -> np.ndarray:
        """Cell mean of actual scores less the effect, plus the model's within-cell spread.

        The spread is scaled down (per cell, never up) where it would carry an
        expected score outside the measure's plausible range.
        """
        level = (self.mean(post, use) - effect)[self.cell]
        spread = model - self.mean(model, use)[self.cell]
        room = np.where(spread > 0, bounds[1] - level, level - bounds[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = np.where(use & (spread != 0), room / np.abs(spread), np.inf)
        scale = np.ones(self.cells)
        np.minimum.at(scale, self.cell, np.clip(fit, 0, 1))
        return np.where(use, level + scale[self.cell] * spread, np.nan)


def _plant(
    design: _Design,
    post: np.ndarray,
    model: np.ndarray,
    use: np.ndarray,
    bounds: tuple[float, float],
    providers: list[Provider],
    procedure: Procedure,
    background: np.ndarray,
    planting: bool,
) -> np.ndarray:
    """Per provider-group effects that put primary z-scores exactly on target.

    Planted roles get their target z (on the measure being planted); every other
    primary group gets its small `background` z.

    Planted effects move England's mean and SD slightly, so they are solved by
    fixed-point iteration against England as it ends up.
    """
    effect = np.zeros(design.cells)
    primary = use & (design.cell % 2 == 0)
    n = np.bincount(design.cell[primary], minlength=design.cells)

    def residuals() -> np.ndarray:
        return (post - design.predicted(post, model, use, effect, bounds))[primary]

    # Unplanted groups get a small fixed shift (about `background` standard errors) and
    # the large-but-too-few group one residual SD; the planted targets are then solved
    # against England as it ends up, which those fixed shifts move only slightly.
    sd0 = residuals().std(ddof=1)
    targets: dict[int, float] = {}
    for i, p in enumerate(providers):
        c = 2 * i
        where = planted(p.role) if planting else None
        if where and where[0] == procedure and where[1] is not None:
            targets[c] = where[1]
        elif where and where[0] == procedure:
            effect[c] = sd0
        elif n[c] > 0:
            effect[c] = float(background[c]) * sd0 / math.sqrt(n[c])
    for _ in range(200):
        r = residuals()
        mu, sd = r.mean(), r.std(ddof=1)
        new = effect.copy()
        for c, z in targets.items():
            new[c] = mu + z * sd / math.sqrt(max(n[c], 1))
        if np.abs(new - effect).max() < 1e-12:
            break
        effect = new
    return effect


def _predicted(values: np.ndarray, modelled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected scores as published (ten significant figures, at most nine decimals).

    Returns the text and the value a reader parses back from it, so the
    residuals kept for the truth file are exactly those a pipeline recomputes.
    """
    text = np.full(values.size, "", dtype=object)
    where = np.flatnonzero(modelled)
    text[where] = [_number(v) for v in values[where].tolist()]
    parsed = np.full(values.size, np.nan)
    parsed[where] = np.array(text[where].tolist(), dtype=float)
    return text, parsed


def _number(value: float) -> str:
    digits = len(str(int(abs(value))))
    text = f"{value:.{max(10 - digits, 1)}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _text(values: np.ndarray, decimals: int = 0) -> np.ndarray:
    """Numbers as the packs write them: no trailing zeros, blank for missing."""
    values = np.asarray(values, dtype=float)
    uniq, inverse = np.unique(values, return_inverse=True)
    words = np.array(
        ["" if np.isnan(u) else _plain(u, decimals) for u in uniq.tolist()], dtype=object
    )
    return words[inverse]


def _plain(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _choice(rng: np.random.Generator, codes, shares, n: int) -> np.ndarray:
    shares = np.asarray(shares, dtype=float)
    return np.asarray(tuple(codes))[rng.choice(len(shares), n, p=shares / shares.sum())]


def _ordinal(score: np.ndarray, shares) -> np.ndarray:
    """Category 0..k-1 by rank of `score`, so category shares match `shares` exactly."""
    shares = np.asarray(shares, dtype=float)
    ranks = np.empty(score.size, dtype=int)
    ranks[np.argsort(score, kind="stable")] = np.arange(score.size)
    edges = np.cumsum(shares / shares.sum())[:-1] * score.size
    return np.searchsorted(edges, ranks, side="right")


# --- PartLink: participation and linkage ---------------------------------------------------------


def write_partlink(
    path: Path, year: str, providers: list[Provider], batches: list[ProcedureYear], seed: int
) -> int:
    """PartLink as published: England first, providers by name, `*` for 1-5 HES procedures.

    The record-level rows are the returned, linked questionnaires; the other
    counts are built outwards from them with realistic rates.
    """
    rng = np.random.Generator(np.random.PCG64([seed, int(year[:4]), 9]))
    blocks: dict[str, np.ndarray] = {}  # block -> (providers, 5) counts
    for batch in batches:
        label = "Hip" if batch.procedure.key == "hip" else "Knee"
        suppressed = np.array(
            [p.role == SUPPRESSED_ROLE and batch.procedure.key == "hip" for p in providers]
        )
        parts = []
        for flag, kind in ((0, "Primary"), (1, "Revision")):
            returned = batch.counts[:, flag]
            sent = np.ceil(returned / rng.uniform(0.70, 0.86, returned.size))
            pre = np.ceil(sent / rng.uniform(0.94, 1.0, returned.size))
            hes = np.maximum(np.ceil(pre / rng.uniform(0.6, 0.95, returned.size)), 6)
            sent, pre = np.where(suppressed, returned, sent), np.where(suppressed, returned, pre)
            hes = np.where(suppressed, returned + 1 - flag, hes)
            part = np.stack([hes, pre, pre, sent, returned], axis=1)
            blocks[f"{kind} {label} Replacement"] = part
            parts.append(part)
        total = parts[0] + parts[1]
        unlinked = np.where(suppressed, 0, rng.binomial(total[:, 1].astype(int), 0.2))
        late_sent = rng.binomial(unlinked, 0.95)
        total[:, 1] += unlinked
        total[:, 3] += late_sent
        total[:, 4] += rng.binomial(late_sent, 0.72)
        blocks[f"{label} Replacement"] = total
    blocks["All Procedures"] = blocks["Hip Replacement"] + blocks["Knee Replacement"]

    lines = [",".join(PARTLINK_HEADER)]
    england = [_partlink_block(blocks[b].sum(axis=0), suppress=False) for b in PARTLINK_BLOCKS]
    lines.append(",".join(["England", "ENGLAND", *sum(england, [])]))
    for i in sorted(range(len(providers)), key=lambda k: providers[k].name):
        cells = [
            _partlink_block(blocks[b][i], suppress=b != "All Procedures") for b in PARTLINK_BLOCKS
        ]
        lines.append(",".join([providers[i].code, _quote(providers[i].name), *sum(cells, [])]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return len(lines) - 1


def _partlink_block(counts: np.ndarray, suppress: bool) -> list[str]:
    hes, pre, linked, sent, returned = (int(c) for c in counts)
    if suppress and 1 <= hes <= 5:
        return ["*"] * len(_PARTLINK_FIELDS)
    return [
        str(hes), str(pre), _rate(pre, hes), str(linked), _rate(linked, pre),
        str(sent), _rate(sent, pre), str(returned), _rate(returned, sent),
    ]  # fmt: skip


def _rate(numerator: int, denominator: int) -> str:
    """Seven decimals without trailing zeros (`0.6700827`, `0.86742`, `1`, `0`)."""
    return _plain(numerator / denominator, 7) if denominator else "0"


def _quote(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text
