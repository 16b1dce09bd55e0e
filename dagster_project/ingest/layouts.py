"""The one-table feeds: Friends and Family Test, surveys, safety, readmissions, NJR, hip fracture.

Each layout is the publisher's own (NHS England's FFT organisation-level
files) or, where providers hold the data themselves, the project's documented
extract format (docs/feeds.md). Periods a file states only in its name or its
metadata (an FFT setting, a survey's financial year) are derived here; every
other value stays as published for the suites to judge.
"""

from __future__ import annotations

import re

import pandas as pd

from dagster_project.ingest.calendar import MONTH_NAMES, month_number
from dagster_project.ingest.landing import LandingCsv, LandingFileError
from dagster_project.ingest.tabular import Column, Layout, fold, workbook_titles

FFT_SETTINGS: dict[str, tuple[str, ...]] = {
    "inpatient": ("inpatient", "inpatients", "ip"),
    "ae": ("ae", "a and e", "a e", "accident and emergency", "emergency department"),
    "maternity": ("maternity", "mat"),
    "outpatient": ("outpatient", "outpatients", "op"),
    "community": ("community", "comm"),
    "mental_health": ("mental health", "mental", "mh"),
    "ambulance": ("ambulance", "amb"),
}
FFT_ANSWERS = ("very_good", "good", "neither", "poor", "very_poor", "dont_know")


def financial_year_of(year: int, month: int) -> str:
    start = year if month >= 4 else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _setting(csv: LandingCsv, preamble: list[list[str]]) -> str:
    """The FFT setting, from the file name, else from the title lines above the header or
    atop a workbook's sheets."""
    texts = [
        csv.csv_name.rsplit(".", 1)[0],
        *(" ".join(line) for line in preamble),
        *workbook_titles(csv),
    ]
    for text in texts:
        words = f" {fold(text.replace('_', ' ').replace('-', ' '))} "
        for setting, names in FFT_SETTINGS.items():
            if any(f" {name} " in words for name in names):
                return setting
    raise LandingFileError(
        csv.source,
        "does not say which Friends and Family Test setting it covers (name the file "
        "like fft-inpatient-2024-08.csv, or give a title line naming the setting)",
    )


# Full month names before their abbreviations, so `June` is not read as `Jun` and a stray `e`.
_MONTH_WORD = "|".join((*MONTH_NAMES, *(m[:3] for m in MONTH_NAMES), "sept"))
_MONTH_YEAR = re.compile(rf"(?i)(?<![a-z])({_MONTH_WORD})(?![a-z])[-_ ]*(\d{{4}}|\d{{2}})(?!\d)")


def _month_in(text: str) -> str | None:
    """`2024-08`, `August 2024`, `Aug-24` or `Aug24` in `text` -> `2024-08-01`."""
    numeric = re.search(r"(?<!\d)(20\d{2})[-_](\d{2})(?!\d)", text)
    if numeric and 1 <= int(numeric.group(2)) <= 12:
        return f"{numeric.group(1)}-{numeric.group(2)}-01"
    named = _MONTH_YEAR.search(text)
    if named:
        year = int(named.group(2))
        year += 2000 if year < 100 else 0
        return f"{year:04d}-{month_number(named.group(1)):02d}-01"
    return None


def _fft_month(year_label: object, period: object, fallback: str | None) -> str | None:
    """`2024_25` and `AUGUST` -> `2024-08-01` (January to March are in the second calendar
    year); else the month the file's name or title lines give (`fallback`)."""
    match = re.fullmatch(r"(\d{4})\s*[-_/]\s*(\d{2}|\d{4})", str(year_label or "").strip())
    month = month_number(str(period or "").strip())
    if match and month:
        first = int(match.group(1))
        return f"{first + (month <= 3):04d}-{month:02d}-01"
    return fallback


def _file_month(csv: LandingCsv, preamble: list[list[str]]) -> str | None:
    """The month a file's name states, else its title lines (`Period: August 2024`), else
    the titles atop a workbook's sheets."""
    names = (csv.csv_name.rsplit(".", 1)[0], *(" ".join(line) for line in preamble))
    for text in (*names, *workbook_titles(csv)):
        month = _month_in(text)
        if month:
            return month
    return None


def _finish_fft(frame: pd.DataFrame, csv: LandingCsv, preamble: list[list[str]]) -> pd.DataFrame:
    frame["setting"] = _setting(csv, preamble)
    fallback = _file_month(csv, preamble)
    months = {
        key: _fft_month(key[0], key[1], fallback)
        for key in set(zip(frame["year_label"], frame["period_name"], strict=True))
    }
    # Read back from the list, not the column: pandas stores a missing month as NaN there.
    month = [months[key] for key in zip(frame["year_label"], frame["period_name"], strict=True)]
    frame["month"] = pd.Series(month, index=frame.index, dtype="object")
    frame["financial_year"] = pd.Series(
        [financial_year_of(int(m[:4]), int(m[5:7])) if m else None for m in month],
        index=frame.index,
        dtype="object",
    )
    return frame


def _finish_survey(frame: pd.DataFrame, csv: LandingCsv, _: list[list[str]]) -> pd.DataFrame:
    """Survey year N is reported in financial year N to N+1."""
    years = frame["survey_year"].astype("string").str.strip()
    valid = years.str.fullmatch(r"\d{4}").fillna(False).astype(bool)
    frame["financial_year"] = [
        f"{int(y)}-{(int(y) + 1) % 100:02d}" if ok else None
        for y, ok in zip(years, valid, strict=True)
    ]
    return frame


def _finish_objectives(
    frame: pd.DataFrame, csv: LandingCsv, preamble: list[list[str]]
) -> pd.DataFrame:
    """The organism in the project's code: from its column, else from the file's name or
    title lines (NHS England publishes one table per organism); the year as `2024-25`
    whether written so, `2024/25` or `2024 to 2025`."""
    from dagster_project.ingest.hcai import organism_name
    from dagster_project.ingest.reference import hcai_organisms

    codes = hcai_organisms()
    titles = [csv.csv_name, *(" ".join(line) for line in preamble)]
    fallback = next((organism_name(t) for t in titles if organism_name(t)), None)
    # A blank cell takes the file's organism; a named one that is not known stays unknown.
    named = [organism_name(o) if o else fallback for o in frame["organism"]]
    frame["organism"] = [codes.get(name or "") for name in named]
    frame["financial_year"] = [_year_label(y) for y in frame["financial_year"]]
    return frame


def _year_label(text: object) -> object:
    match = re.fullmatch(r"\s*(\d{4})\s*(?:[-/]|to)\s*(\d{2}|\d{4})\s*", str(text or ""))
    if not match:
        return text
    return f"{match.group(1)}-{match.group(2)[-2:]}"


_CODE = Column(
    "organisation_code",
    ("org code", "organisation code", "provider code", "trust code", "code", "ods code"),
)

FFT = Layout(
    kind="fft_organisation",
    table="fft_responses",
    columns=(
        Column("year_label", ("yearnumber", "year number", "year"), required=False),
        Column("period_name", ("periodname", "period name", "period", "month"), required=False),
        _CODE,
        Column(
            "organisation_name",
            ("org name", "organisation name", "trust name", "name"),
            required=False,
        ),
        Column(
            "parent_code",
            ("parent org code", "parent code", "icb code", "stp code"),
            required=False,
        ),
        Column("very_good", ("1 very good sum", "1 very good", "very good")),
        Column("good", ("2 good sum", "2 good", "good")),
        Column(
            "neither",
            ("3 neither good nor poor sum", "3 neither good nor poor", "neither good nor poor"),
        ),
        Column("poor", ("4 poor sum", "4 poor", "poor")),
        Column("very_poor", ("5 very poor sum", "5 very poor", "very poor")),
        Column("dont_know", ("6 dont know sum", "6 dont know", "dont know")),
        Column("total_responses", ("total responses", "total responses sum", "responses")),
        Column(
            "total_eligible",
            ("total eligible", "total eligible sum", "eligible"),
            required=False,
        ),
    ),
    name_column="organisation_name",
    # NHS England's organisation-level sheet (inpatient: `Parent & Self Trusts - Organisa`,
    # A&E: `Parent & Self - Organisation Le`) before the site and ward sheets, which have
    # the same columns and would count each trust once per site.
    sheets=("Parent & Self Trusts - Organisa", "Organisa", "Trust"),
    finish=_finish_fft,
    derived=("setting", "month", "financial_year"),
)

INPATIENT_SURVEY = Layout(
    kind="inpatient_survey",
    table="inpatient_survey",
    columns=(
        _CODE,
        Column("survey_year", ("survey year", "year")),
        *(Column(f"q{i}", (f"q{i}", f"question {i}")) for i in range(1, 6)),
    ),
    finish=_finish_survey,
    derived=("financial_year",),
)

STAFF_SURVEY = Layout(
    kind="staff_survey",
    table="staff_survey",
    columns=(
        _CODE,
        Column("survey_year", ("survey year", "year")),
        Column("recommend_care", ("recommend care", "recommend care %", "q23d")),
    ),
    finish=_finish_survey,
    derived=("financial_year",),
)

# The NRLS's degrees of harm as its publications spell them (No harm, Low harm, Moderate harm,
# Severe harm, Death), in the project's words; any other word stays as written, for the
# suite to quarantine rather than guess.
_HARM = {
    "no harm": "No harm", "none": "No harm", "low": "Low", "low harm": "Low",
    "moderate": "Moderate", "moderate harm": "Moderate", "severe": "Severe",
    "severe harm": "Severe", "death": "Death",
}  # fmt: skip


def _finish_incidents(frame: pd.DataFrame, csv: LandingCsv, _: list[list[str]]) -> pd.DataFrame:
    """The degree of harm in the project's words, whichever of the NRLS's it was written in."""
    frame["degree_of_harm"] = [_HARM.get(fold(h), h) for h in frame["degree_of_harm"]]
    return frame


INCIDENTS = Layout(
    kind="incidents",
    table="incidents",
    columns=(
        Column("incident_id", ("incident id", "incident reference", "reference")),
        _CODE,
        Column("incident_date", ("incident date", "date of incident")),
        Column("reported_date", ("reported date", "date reported")),
        Column("category", ("category", "incident category")),
        Column("degree_of_harm", ("degree of harm", "harm")),
        Column("never_event_type", ("never event type", "never event"), required=False),
    ),
    finish=_finish_incidents,
)


def _vte_month(text: object) -> str | None:
    """`2024-07-01` (NHS England's CSV) or `01/07/2024` -> `2024-07-01`; None otherwise."""
    value = str(text or "").strip()
    iso = re.fullmatch(r"(\d{4})-(\d{2})-01(?:[ T]00:00(?::00)?)?", value)
    if iso and 1 <= int(iso.group(2)) <= 12:
        return f"{iso.group(1)}-{iso.group(2)}-01"
    british = re.fullmatch(r"0?1/(\d{1,2})/(\d{4})", value)
    if british and 1 <= int(british.group(1)) <= 12:
        return f"{british.group(2)}-{int(british.group(1)):02d}-01"
    return None


def _vte_quarter(month: str) -> str:
    """`2024-07-01` -> `2024-25 Q2`: the financial year's quarter the month falls in."""
    year, number = int(month[:4]), int(month[5:7])
    return f"{financial_year_of(year, number)} Q{(number - 4) % 12 // 3 + 1}"


def _finish_vte(frame: pd.DataFrame, csv: LandingCsv, _: list[list[str]]) -> pd.DataFrame:
    """NHS England's file has a row per provider and month (`date`, the first of the month):
    the month is kept as published where it cannot be read, and gives the quarter where the
    file has no quarter column, so a month that cannot be placed is quarantined by the
    quarter's rules rather than guessed."""
    months = [_vte_month(m) for m in frame["month"]]
    frame["month"] = [m or raw for m, raw in zip(months, frame["month"], strict=True)]
    frame["quarter"] = [
        q if q is not None or m is None else _vte_quarter(m)
        for q, m in zip(frame["quarter"], months, strict=True)
    ]
    return frame


# The project's extract (one row per provider and quarter) and NHS England's quarterly
# publication since the collection restarted in April 2024 (one row per provider and month:
# `org_code`, `number_of_vte_assessed_admissions`, `total_admissions`, `date`; its
# percentage, region and operator columns are not read, since they follow from the counts
# and the register).
VTE = Layout(
    kind="vte",
    table="vte_assessments",
    columns=(
        _CODE,
        Column("quarter", ("quarter", "period"), required=False),
        Column("month", ("date", "month", "month start"), required=False),
        Column("admitted", ("admitted", "admissions", "total admissions")),
        Column(
            "risk_assessed",
            ("risk assessed", "assessed", "number of vte assessed admissions"),
        ),
    ),
    finish=_finish_vte,
)


def _finish_readmissions(frame: pd.DataFrame, csv: LandingCsv, _: list[list[str]]) -> pd.DataFrame:
    """The year as `2024-25` and the age band in the project's words (`<16` -> `0-15`)."""
    frame["financial_year"] = [_year_label(y) for y in frame["financial_year"]]
    frame["age_group"] = [_AGE_BANDS.get(fold(a), a) for a in frame["age_group"]]
    return frame


_AGE_BANDS = {
    "16": "0-15", "0 15": "0-15", "0 to 15": "0-15", "under 16": "0-15", "aged 0 to 15": "0-15",
    "16+": "16+", "16 and over": "16+", "16 plus": "16+", "aged 16 and over": "16+",
    "all": "all", "all ages": "all", "persons": "all",
    "16 74": "16-74", "16 to 74": "16-74", "75+": "75+", "75 and over": "75+",
}  # fmt: skip

# NHS Digital's indicator files (Compendium I02040, emergency readmissions within 30 days of
# discharge): one row per organisation, period and breakdown, the indirectly standardised
# percentage with its 95% confidence interval, the readmissions and the discharges.
READMISSIONS = Layout(
    kind="readmissions",
    table="readmissions",
    columns=(
        Column("organisation_code", ("level", *_CODE.spellings)),
        Column(
            "organisation_name",
            ("level description", "organisation name", "provider name", "name"),
            required=False,
        ),
        Column(
            "financial_year",
            ("reporting period", "financial year", "year", "period of coverage", "period"),
        ),  # fmt: skip
        Column("age_group", ("age group", "age", "age band")),
        Column(
            "indicator_value",
            (
                "indicator value",
                "indirectly standardised percentage",
                "standardised percentage",
                "value",
            ),
        ),  # fmt: skip
        Column(
            "lower_ci",
            (
                "lower ci",
                "lower confidence interval",
                "lower 95% ci",
                "lci",
                "lower confidence limit",
            ),
        ),  # fmt: skip
        Column(
            "upper_ci",
            (
                "upper ci",
                "upper confidence interval",
                "upper 95% ci",
                "uci",
                "upper confidence limit",
            ),
        ),  # fmt: skip
        Column(
            "numerator",
            (
                "numerator",
                "observed",
                "observed readmissions",
                "emergency readmissions",
                "readmissions",
            ),
        ),  # fmt: skip
        Column("denominator", ("denominator", "discharges", "spells")),
    ),
    name_column="organisation_name",
    finish=_finish_readmissions,
)

NJR = Layout(
    kind="njr",
    table="njr_compliance",
    columns=(
        _CODE,
        Column("financial_year", ("financial year", "year")),
        Column("compliance", ("compliance", "njr compliance")),
        Column("consent_not_recorded", ("consent not recorded",)),
        Column(
            "cemented_over_70",
            ("cemented or hybrid over 70", "cemented over 70"),
            required=False,
        ),
    ),
)

HIP_FRACTURE = Layout(
    kind="hip_fracture",
    table="hip_fracture_spells",
    columns=(
        Column("spell_id", ("spell id", "spell")),
        _CODE,
        Column("arrival", ("arrival", "arrival date time")),
        Column("surgery", ("surgery", "surgery date time")),
        Column("orthogeriatric_assessment", ("orthogeriatric assessment",)),
        Column("joint_care", ("joint care",)),
        Column("geriatrician_rehabilitation", ("geriatrician rehabilitation",)),
        Column("falls_assessment", ("falls assessment",)),
        Column("bone_health_assessment", ("bone health assessment",)),
        Column("amts_pre_op", ("amts pre op", "amts preop"), required=False),
        Column("amts_post_op", ("amts post op", "amts postop"), required=False),
    ),
)

HCAI_OBJECTIVES = Layout(
    kind="hcai_objectives",
    table="hcai_objectives",
    columns=(
        _CODE,
        Column(
            "organisation_name",
            ("organisation name", "org name", "trust name", "name"),
            required=False,
        ),  # fmt: skip
        Column("financial_year", ("financial year", "year")),
        Column("organism", ("organism", "infection", "collection"), required=False),
        Column(
            "objective",
            (
                "objective",
                "threshold",
                "cdi objective",
                "cdi threshold",
                "c difficile threshold",
                "c difficile objective",
                "trust threshold",
                "annual threshold",
            ),
        ),  # fmt: skip
    ),
    name_column="organisation_name",
    finish=_finish_objectives,
)

# The NRLS cluster list published with each organisation patient safety incident report: the
# group of similar organisations each is compared within (acute non-specialist, mental
# health, ...).
INCIDENT_CLUSTERS = Layout(
    kind="incident_clusters",
    table="incident_clusters",
    columns=(
        _CODE,
        Column(
            "organisation_name",
            ("organisation name", "org name", "trust name", "name"),
            required=False,
        ),  # fmt: skip
        Column(
            "cluster",
            ("cluster", "nrls cluster", "organisation cluster", "cluster name", "cluster type"),
        ),  # fmt: skip
    ),
    name_column="organisation_name",
)


def _finish_palliative(
    frame: pd.DataFrame, csv: LandingCsv, preamble: list[list[str]]
) -> pd.DataFrame:
    """Which rate the file holds (of deaths or of spells, from its name or title) and the
    publication it belongs to, named like the trust-level file beside it."""
    from dagster_project.ingest.shmi import publication_or_period

    texts = " ".join([csv.csv_name, *(" ".join(line) for line in preamble)]).lower()
    measure = "deaths" if "death" in texts else "spells" if "spell" in texts else None
    frame["measure"] = frame["measure"].where(frame["measure"].notna(), measure)
    frame["measure"] = [_PALLIATIVE_MEASURES.get(fold(m), m) for m in frame["measure"]]
    frame["publication"], frame["period_end"] = publication_or_period(csv)
    return frame


_PALLIATIVE_MEASURES = {"deaths": "deaths", "death": "deaths", "spells": "spells",
                        "spell": "spells"}  # fmt: skip

# NHS Digital's contextual indicators beside SHMI: the percentage of a provider's deaths (or
# spells) with palliative care coded at diagnosis or treatment specialty level.
SHMI_PALLIATIVE = Layout(
    kind="shmi_palliative",
    table="shmi_contextual",
    columns=(
        Column("provider_code", ("provider code", "provider", "org code", "organisation code")),
        Column("provider_name", ("provider name", "organisation name", "name"), required=False),
        Column("measure", ("measure", "breakdown", "denominator type"), required=False),
        Column(
            "numerator",
            (
                "numerator",
                "palliative care deaths",
                "palliative care spells",
                "deaths with palliative care coding",
                "spells with palliative care coding",
            ),
        ),  # fmt: skip
        Column(
            "denominator", ("denominator", "deaths", "spells", "total deaths", "total spells")
        ),  # fmt: skip
        Column("value", ("value", "percentage", "percent", "rate")),
    ),
    code_column="provider_code",
    name_column="provider_name",
    finish=_finish_palliative,
    derived=("publication", "period_end"),
)
