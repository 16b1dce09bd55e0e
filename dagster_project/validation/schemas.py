"""Column types of the raw tables: what validation promises dbt.

Codes for "not answered" (9, 999) stay as they are: they are data, and the
staging models decide what they mean for each measure.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.ingest.kh03 import BED_COLUMNS as KH03_BED_COLUMNS
from dagster_project.ingest.layouts import FFT_ANSWERS
from dagster_project.ingest.proms import (
    PARTICIPATION_COLUMNS,
    POST_ITEMS,
    PRE_ITEMS,
    RECORD_COLUMNS,
    SUPPRESSED,
)

_META = {
    "source_file": "string",
    "sha256": "string",
    "load_id": "string",
    "row_number": "Int64",
    "file_kind": "string",
    "financial_year": "string",
}

_RECORD_TEXT = {
    "provider_code",
    "procedure",
    "year_label",
    "age_band",
    "gender",
    "pre_eq5d_profile",
    "post_eq5d_profile",
}
_RECORD_FLOAT = {
    "pre_eq5d_index",
    "post_eq5d_index",
    "eq5d_index_predicted",
    "eq_vas_predicted",
    "oxford_predicted",
}

PROMS_RECORDS: dict[str, str] = {
    **_META,
    **{
        c: "string" if c in _RECORD_TEXT else "Float64" if c in _RECORD_FLOAT else "Int16"
        for c in RECORD_COLUMNS
    },
    "set_aside": "string",
}

PROMS_PARTICIPATION: dict[str, str] = {
    **_META,
    **{
        c: "string"
        if c in {"provider_code", "provider_name", "procedure"}
        else "Float64"
        if c.endswith("_rate")
        else "Int64"
        for c in PARTICIPATION_COLUMNS
    },
    "hes_procedures_suppressed": "boolean",
    "set_aside": "string",
}

ORGANISATIONS: dict[str, str] = {
    "source_file": "string",
    "sha256": "string",
    "load_id": "string",
    "row_number": "Int64",
    "file_kind": "string",
    "organisation_code": "string",
    "organisation_name": "string",
    "national_grouping": "string",
    "high_level_health_geography": "string",
    "address_line_1": "string",
    "address_line_2": "string",
    "address_line_3": "string",
    "address_line_4": "string",
    "address_line_5": "string",
    "postcode": "string",
    "open_date": "string",
    "close_date": "string",
    "set_aside": "string",
}

SHMI: dict[str, str] = {
    **{k: v for k, v in _META.items() if k != "financial_year"},
    "publication": "string",
    "indicator_code": "string",
    "provider_code": "string",
    "provider_name": "string",
    "spells": "Int64",
    "observed": "Int64",
    "expected": "Float64",
    "published_shmi": "Float64",
    "published_poisson_lower": "Float64",
    "published_poisson_upper": "Float64",
    "published_poisson_banding": "Int16",
    "published_lower_limit": "Float64",
    "published_upper_limit": "Float64",
    "published_banding": "Int16",
    "set_aside": "string",
}

_STAMP = {k: v for k, v in _META.items() if k != "financial_year"}

HCAI_COUNTS: dict[str, str] = {
    **_STAMP,
    "organism": "string",
    "organisation_type": "string",
    "organisation_code": "string",
    "organisation_name": "string",
    "month": "string",
    "metric": "string",
    "figure": "Int64",
    "set_aside": "string",
}

KH03_BEDS: dict[str, str] = {
    **_STAMP,
    "period_start": "string",
    "quarter_label": "string",
    "region_code": "string",
    "organisation_code": "string",
    "organisation_name": "string",
    **{c: "Float64" for c in KH03_BED_COLUMNS},
    "set_aside": "string",
}


def _tabular(columns: dict[str, str]) -> dict[str, str]:
    return {**_STAMP, **columns, "set_aside": "string"}


_S, _I, _F = "string", "Int64", "Float64"

FFT_RESPONSES = _tabular(
    {
        "setting": _S,
        "month": _S,
        "financial_year": _S,
        "year_label": _S,
        "period_name": _S,
        "organisation_code": _S,
        "organisation_name": _S,
        "parent_code": _S,
        **{a: _I for a in FFT_ANSWERS},
        "total_responses": _I,
        "total_eligible": _I,
    }
)
INPATIENT_SURVEY = _tabular(
    {
        "financial_year": _S,
        "organisation_code": _S,
        "survey_year": _I,
        **{f"q{i}": _F for i in range(1, 6)},
    }
)
STAFF_SURVEY = _tabular(
    {"financial_year": _S, "organisation_code": _S, "survey_year": _I, "recommend_care": _F}
)
INCIDENTS = _tabular(
    {
        "incident_id": _S,
        "organisation_code": _S,
        "incident_date": _S,
        "reported_date": _S,
        "category": _S,
        "degree_of_harm": _S,
        "never_event_type": _S,
    }
)
VTE_ASSESSMENTS = _tabular(
    {"organisation_code": _S, "quarter": _S, "admitted": _I, "risk_assessed": _I}
)
READMISSIONS = _tabular(
    {
        "organisation_code": _S,
        "financial_year": _S,
        "age_group": _S,
        "discharges": _I,
        "readmissions_28d": _I,
    }
)
NJR_COMPLIANCE = _tabular(
    {
        "organisation_code": _S,
        "financial_year": _S,
        "compliance": _F,
        "consent_not_recorded": _F,
        "cemented_over_70": _F,
    }
)
HIP_FRACTURE_SPELLS = _tabular(
    {
        "spell_id": _S,
        "organisation_code": _S,
        "arrival": _S,
        "surgery": _S,
        "orthogeriatric_assessment": _S,
        "joint_care": _S,
        "geriatrician_rehabilitation": _S,
        "falls_assessment": _S,
        "bone_health_assessment": _S,
        "amts_pre_op": _S,
        "amts_post_op": _S,
    }
)

SCHEMAS = {
    "fft_responses": FFT_RESPONSES,
    "inpatient_survey": INPATIENT_SURVEY,
    "staff_survey": STAFF_SURVEY,
    "incidents": INCIDENTS,
    "vte_assessments": VTE_ASSESSMENTS,
    "readmissions": READMISSIONS,
    "njr_compliance": NJR_COMPLIANCE,
    "hip_fracture_spells": HIP_FRACTURE_SPELLS,
    "proms_records": PROMS_RECORDS,
    "proms_participation": PROMS_PARTICIPATION,
    "organisations": ORGANISATIONS,
    "shmi": SHMI,
    "hcai_counts": HCAI_COUNTS,
    "kh03_beds": KH03_BEDS,
}

OXFORD_ITEMS = {"pre": PRE_ITEMS, "post": POST_ITEMS}


def cast(frame: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    """Typed copy in schema order; only ever called on values the suite has passed.

    A figure suppressed for disclosure control (`*`), or marked not applicable (`-`),
    becomes NULL.
    """
    out = pd.DataFrame(index=frame.index)
    for column, dtype in schema.items():
        values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index)
        if dtype == "string":
            out[column] = values.astype("string")
        elif dtype == "boolean":
            out[column] = values.astype("boolean")
        else:
            out[column] = _numbers(values.where(~values.isin(NOT_A_NUMBER)), dtype)
    return out.reset_index(drop=True)


NOT_A_NUMBER = (SUPPRESSED, "-")
_ARROW = {"Int16": pa.int16(), "Int64": pa.int64(), "Float64": pa.float64()}


def _numbers(values: pd.Series, dtype: str) -> pd.Series:
    """Text to numbers through Arrow: an order of magnitude faster than pd.to_numeric."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(dtype)
    text = pa.array(values.astype("string"), type=pa.string(), from_pandas=True)
    target = _ARROW[dtype]
    try:
        typed = pc.cast(text, target)
    except pa.ArrowInvalid as exc:
        bad = next(v for v in values.dropna() if not _parses(v, target))
        raise TypeError(
            f"column {values.name}: value {bad!r} passed the suite but is not {dtype}; "
            "the suite's rule for this column must be tightened"
        ) from exc
    mapper = {target: pd.api.types.pandas_dtype(dtype)}.get
    return pd.Series(typed.to_pandas(types_mapper=mapper).array, index=values.index)


def _parses(value: str, target: pa.DataType) -> bool:
    try:
        pc.cast(pa.array([value], type=pa.string()), target)
    except pa.ArrowInvalid:
        return False
    return True


def empty(schema: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in schema.items()})
