"""NHS Digital PROMs data packs: which file is which, and their columns under stable names.

The kind of a file comes from its header, never its name: publishers rename
packs between years (`Hip Replacement` / `Hip Replacements`) while the headers
stay put. Hip and knee files share one layout apart from the procedure prefix
and a few spellings (`EQ 5D Index`, `EQ VAS_Post-Op`), which `canonical_name`
folds away, so both land in one table with a `procedure` column.
"""

from __future__ import annotations

import re

import pandas as pd

from dagster_project.feeds.spec import Recognised
from dagster_project.ingest.landing import STAMP_COLUMNS, LandingCsv, LandingFileError, stamp
from dagster_project.ingest.row_shape import ROW_PROBLEM, read_checked_frame

RECORDS = "proms_records"
PARTICIPATION = "proms_participation"

PROCEDURE_PREFIXES = ("hip replacement ", "knee replacement ")

# Record-level columns common to hip and knee, by their folded published name.
_COMMON = {
    "provider code": "provider_code",
    "procedure": "procedure",
    "revision flag": "revision_flag",
    "year": "year_label",
    "age band": "age_band",
    "gender": "gender",
    "pre-op q assisted": "pre_assisted",
    "pre-op q assisted by": "pre_assisted_by",
    "pre-op q symptom period": "pre_symptom_period",
    "pre-op q previous surgery": "pre_previous_surgery",
    "pre-op q living arrangements": "pre_living_arrangements",
    "pre-op q disability": "pre_disability",
    "heart disease": "heart_disease",
    "high bp": "high_bp",
    "stroke": "stroke",
    "circulation": "circulation",
    "lung disease": "lung_disease",
    "diabetes": "diabetes",
    "kidney disease": "kidney_disease",
    "nervous system": "nervous_system",
    "liver disease": "liver_disease",
    "cancer": "cancer",
    "depression": "depression",
    "arthritis": "arthritis",
    "pre-op q mobility": "pre_eq5d_mobility",
    "pre-op q self-care": "pre_eq5d_self_care",
    "pre-op q activity": "pre_eq5d_activity",
    "pre-op q discomfort": "pre_eq5d_discomfort",
    "pre-op q anxiety": "pre_eq5d_anxiety",
    "pre-op q eq5d index profile": "pre_eq5d_profile",
    "pre-op q eq5d index": "pre_eq5d_index",
    "post-op q assisted": "post_assisted",
    "post-op q assisted by": "post_assisted_by",
    "post-op q living arrangements": "post_living_arrangements",
    "post-op q disability": "post_disability",
    "post-op q mobility": "post_eq5d_mobility",
    "post-op q self-care": "post_eq5d_self_care",
    "post-op q activity": "post_eq5d_activity",
    "post-op q discomfort": "post_eq5d_discomfort",
    "post-op q anxiety": "post_eq5d_anxiety",
    "post-op q satisfaction": "post_satisfaction",
    "post-op q sucess": "post_success",
    "post-op q success": "post_success",
    "post-op q allergy": "post_allergy",
    "post-op q bleeding": "post_bleeding",
    "post-op q wound": "post_wound",
    "post-op q urine": "post_urine",
    "post-op q further surgery": "post_further_surgery",
    "post-op q readmitted": "post_readmitted",
    "post-op q eq5d index profile": "post_eq5d_profile",
    "post-op q eq5d index": "post_eq5d_index",
    "pre-op q eq vas": "pre_eq_vas",
    "post-op q eq vas": "post_eq_vas",
}

# Procedure-specific columns (after the `Hip Replacement ` / `Knee Replacement ` prefix).
_SPECIFIC = {
    "eq5d index post-op q predicted": "eq5d_index_predicted",
    "eq vas post-op q predicted": "eq_vas_predicted",
    "ohs post-op q predicted": "oxford_predicted",
    "oks post-op q predicted": "oxford_predicted",
    "pre-op q score": "pre_oxford_score",
    "post-op q score": "post_oxford_score",
}

OXFORD_ITEMS = 12
PRE_ITEMS = [f"pre_oxford_q{i:02d}" for i in range(1, OXFORD_ITEMS + 1)]
POST_ITEMS = [f"post_oxford_q{i:02d}" for i in range(1, OXFORD_ITEMS + 1)]

RECORD_COLUMNS: list[str] = list(dict.fromkeys(_COMMON.values())) + [
    "eq5d_index_predicted",
    "eq_vas_predicted",
    *PRE_ITEMS,
    "pre_oxford_score",
    *POST_ITEMS,
    "post_oxford_score",
    "oxford_predicted",
]

PARTLINK_PROCEDURES = (
    "All Procedures",
    "Hip Replacement",
    "Primary Hip Replacement",
    "Revision Hip Replacement",
    "Knee Replacement",
    "Primary Knee Replacement",
    "Revision Knee Replacement",
)
_PARTLINK_MEASURES = {
    "total hes procedures": "hes_procedures",
    "total pre-op qs": "pre_op_questionnaires",
    "participation rate": "participation_rate",
    "total linked": "linked",
    "linkage rate": "linkage_rate",
    "total q2s sent to date": "q2_issued",
    "issue rate": "issue_rate",
    "total q2s returned to date": "q2_returned",
    "response rate": "response_rate",
}
PARTICIPATION_COLUMNS = [
    "provider_code",
    "provider_name",
    "procedure",
    *_PARTLINK_MEASURES.values(),
]

SUPPRESSED = "*"

META_COLUMNS = [*STAMP_COLUMNS, "financial_year"]

_FILE_YEAR = re.compile(r"(\d{2})(\d{2})(?:\.csv)?$", re.IGNORECASE)
_YEAR_LABEL = re.compile(r"^(\d{4})/(\d{2})$")


def fold(name: str) -> str:
    """A published column name with spelling drift folded away."""
    folded = re.sub(r"[_\s]+", " ", name.strip().lower())
    return folded.replace("eq 5d", "eq5d")


def classify(header: list[str]) -> Recognised | None:
    """Recognise a PROMs pack file from its header; None if it is not one."""
    folded = [fold(h) for h in header]
    first = folded[0] if folded else ""
    has = set(folded)
    if first == "provider code" and "revision flag" in has:
        prefixes = {p for p in PROCEDURE_PREFIXES if any(f.startswith(p) for f in folded)}
        if prefixes == {"hip replacement "}:
            return Recognised("hip_records", RECORDS)
        if prefixes == {"knee replacement "}:
            return Recognised("knee_records", RECORDS)
        return None
    if "ccg" in first and "revision flag" in has:
        return Recognised(
            "ccg_records", None, "commissioner-level records: not used for provider figures"
        )
    if first == "organisation code" and any(f.endswith("participation rate") for f in folded):
        return Recognised("partlink", PARTICIPATION)
    if "modelled records" in has and "organisation type" in has:
        return Recognised("provcomm", None, "published reference table (ProvComm): not ingested")
    if first == "orgcode" and any(f.startswith("outlier ") for f in folded):
        return Recognised(
            "time_series", None, "published reference table (Time Series): not ingested"
        )
    if first == "lookup" and {"improved", "unchanged", "worsened"} <= has:
        return Recognised("key_facts", None, "published reference table (Key Facts): not ingested")
    return None


def _financial_year(start: int, end: int) -> str | None:
    """`2018`, `19` -> `2018-19`, if the two are consecutive years."""
    return f"{start}-{end % 100:02d}" if (start + 1) % 100 == end % 100 else None


def year_from_label(label: str | None) -> str | None:
    """`2018/19` -> `2018-19`; None when the label is not a consecutive pair of years."""
    match = _YEAR_LABEL.match(label.strip()) if label is not None else None
    return _financial_year(int(match.group(1)), int(match.group(2))) if match else None


def year_from_file_name(name: str) -> str | None:
    """`PartLink Hip and Knee Replacement 1819.csv` -> `2018-19`."""
    match = _FILE_YEAR.search(name.strip())
    return _financial_year(2000 + int(match.group(1)), int(match.group(2))) if match else None


def record_column_map(header: list[str]) -> dict[str, str]:
    """Published column -> canonical column for a hip or knee record-level file."""
    mapping: dict[str, str] = {}
    items = {"pre": [], "post": []}
    for column in header:
        folded = fold(column)
        prefix = next((p for p in PROCEDURE_PREFIXES if folded.startswith(p)), None)
        if prefix is None:
            if folded in _COMMON:
                mapping[column] = _COMMON[folded]
            continue
        rest = folded[len(prefix) :]
        if rest in _SPECIFIC:
            mapping[column] = _SPECIFIC[rest]
        elif rest.startswith("pre-op q "):
            items["pre"].append(column)
        elif rest.startswith("post-op q "):
            items["post"].append(column)
    for stage, names in (("pre", PRE_ITEMS), ("post", POST_ITEMS)):
        for column, canonical in zip(items[stage], names, strict=False):
            mapping[column] = canonical
    return mapping


def parse_records(csv: LandingCsv, kind: Recognised) -> pd.DataFrame:
    """A hip or knee record-level file as text columns under canonical names."""
    raw = read_checked_frame(csv)
    mapping = record_column_map(list(raw.columns[1:-1]))
    missing = [c for c in RECORD_COLUMNS if c not in mapping.values()]
    if missing:
        raise LandingFileError(
            csv.source, f"record-level header lacks columns for: {', '.join(missing)}"
        )
    frame = raw[["row_number", *mapping.keys()]].rename(columns=mapping)
    frame = frame[["row_number", *RECORD_COLUMNS]].copy()
    frame[ROW_PROBLEM] = raw[ROW_PROBLEM]
    frame = stamp(frame, csv.source, csv.sha256, kind.kind)
    frame.insert(5, "financial_year", frame["year_label"].map(year_from_label))
    return frame


def parse_partlink(csv: LandingCsv, kind: Recognised) -> pd.DataFrame:
    """PartLink's wide layout (one column per procedure and measure) turned long."""
    year = year_from_file_name(csv.csv_name)
    if year is None:
        raise LandingFileError(
            csv.source,
            "PartLink has no Year column and its file name does not end in a year code "
            "such as `1819.csv`",
        )
    raw = read_checked_frame(csv)
    columns = list(raw.columns[:-1])
    code_col, name_col = columns[1], columns[2]
    parts = []
    for procedure in PARTLINK_PROCEDURES:
        measures: dict[str, str] = {}
        for column in columns[3:]:
            head, sep, tail = column.partition(" - ")
            if sep and fold(head) == fold(procedure) and fold(tail) in _PARTLINK_MEASURES:
                measures[column] = _PARTLINK_MEASURES[fold(tail)]
        if not measures:
            continue
        part = raw[["row_number", code_col, name_col, *measures, ROW_PROBLEM]].rename(
            columns={code_col: "provider_code", name_col: "provider_name", **measures}
        )
        part.insert(3, "procedure", procedure)
        parts.append(part)
    if not parts:
        raise LandingFileError(csv.source, "PartLink header names none of the known procedures")
    frame = pd.concat(parts, ignore_index=True)
    for column in PARTICIPATION_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    frame = frame[["row_number", *PARTICIPATION_COLUMNS, ROW_PROBLEM]].copy()
    frame["hes_procedures_suppressed"] = (frame["hes_procedures"] == SUPPRESSED).astype(bool)
    frame = stamp(frame, csv.source, csv.sha256, kind.kind)
    frame.insert(5, "financial_year", year)
    return frame.sort_values("row_number", kind="stable").reset_index(drop=True)


def parse(csv: LandingCsv, kind: Recognised) -> pd.DataFrame:
    if kind.table == RECORDS:
        return parse_records(csv, kind)
    if kind.table == PARTICIPATION:
        return parse_partlink(csv, kind)
    raise ValueError(f"{kind.kind} files are not ingested")
