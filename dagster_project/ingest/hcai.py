"""UKHSA mandatory surveillance counts (HCAI) in both published layouts, as one long table.

UKHSA has published the same monthly counts per organisation in two layouts:

- archive tables: metadata lines (`Title:`, `Reporting Period:`) above the
  header, one column per month (`March 2016`), a `Totals` row (above and
  below the trusts), the name column repeated at the end, counts written
  with spaces as thousands separators (` 3 231 `), notes after the data;
- data-capture exports: long, one row per organisation, month and metric
  (`Collection; Organisation type; ...; Year; Month; Metric; Figure`), whose
  column set and organisation-type spellings change between years.

The kind of a file comes from its header, never its name. Both layouts land in
the same canonical columns (`COLUMNS`) so checks downstream need not know
which layout a year came in; every value stays text, as published, but for the
organism and metric, which are given the project's codes (reference.py).

Archive tables have no metric column: their title says what they count. The
E. coli tables are titled "Monthly counts of ... by Acute Trust" (2016-17
adds "- Trust Cases"): every case reported by each acute trust, whatever the
onset. Their Totals (about 3,300 a month) agree with the data-capture National
`Total cases` (March 2018: 3,299 archived, 3,305 after later revision), not
with hospital onset (about 600), so they are `total_cases`. A title naming an
onset or trust apportionment gives that metric instead (`archive_metric`).
"""

from __future__ import annotations

import csv as csvlib
import io
import re

import pandas as pd

from dagster_project.figures import ungroup
from dagster_project.ingest import reference
from dagster_project.ingest.calendar import month_number
from dagster_project.ingest.landing import STAMP_COLUMNS, LandingCsv, LandingFileError, stamp
from dagster_project.ingest.row_shape import (
    ROW_PROBLEM,
    final_row_problem,
    header_width,
    row_problem,
)

ARCHIVE = "archive"
DATA_CAPTURE = "data_capture"
NATIONAL = "national"
NATIONAL_CODE = "ENG"
NATIONAL_NAME = "England"

META_COLUMNS = STAMP_COLUMNS
HCAI_COLUMNS = [
    "organism",
    "organisation_type",
    "organisation_code",
    "organisation_name",
    "month",
    "metric",
    "figure",
]
COLUMNS = META_COLUMNS + HCAI_COLUMNS

# The header is looked for this far down: archive tables put metadata above it.
_HEADER_SEARCH_ROWS = 60
_DELIMITERS = (";", ",", "\t")


# Data-capture columns by folded published name; the first match wins.
_CAPTURE_ALIASES = {
    "organism": ("collection", "organism", "pathogen"),
    "organisation_type": ("organisation type", "org type", "organisation level"),
    "organisation_code": ("organisation code", "org code", "code"),
    "organisation_name": ("organisation name", "org name", "name"),
    "year": ("year", "calendar year", "financial year"),
    "month": ("month", "calendar month", "month number"),
    "metric": ("metric", "measure", "indicator"),
    "figure": ("figure", "value", "count", "cases"),
}
_CAPTURE_REQUIRED = ("organisation_code", "month", "metric", "figure")

_ARCHIVE_CODE = re.compile(r"^(?:(?:trust|organisation|org|provider|ccg) )?code$")
_ARCHIVE_NAME = re.compile(r"^(?:(?:trust|organisation|org|provider|ccg) )?name$")
_TOTAL_LABELS = {"total", "totals", "england", "england total", "national", "grand total"}
_ORG_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
# A footnote marker stuck to a name: `North West Anglia3`, `Birmingham ... Children's1`.
_FOOTNOTE_MARK = re.compile(r"(?<=[a-z'’)])\d{1,2}$")

_ORGANISMS = (
    (re.compile(r"(?<![a-z])e[\s._]*coli?(?![a-z])|escherichia"), "E. coli"),
    (re.compile(r"(?<![a-z])mrsa(?![a-z])|meth?icillin[- ]resistant"), "MRSA"),
    (re.compile(r"(?<![a-z])mssa(?![a-z])|meth?icillin[- ]s(?:usceptible|ensitive)"), "MSSA"),
    (re.compile(r"klebsiella"), "Klebsiella spp."),
    (re.compile(r"pseudomonas|(?<![a-z])p[\s._]*aeruginosa"), "P. aeruginosa"),
    (re.compile(r"(?<![a-z])c[\s._]*diff|clostridi|(?<![a-z])cdi(?![a-z])"), "C. difficile"),
)

_ORGANISATION_TYPES = {
    "nhs acute trust": "acute_trust",
    "nhs acute trusts": "acute_trust",
    "acute trust": "acute_trust",
    "acute trusts": "acute_trust",
    "nhs trust": "acute_trust",
    "trust": "acute_trust",
    "ccg": "ccg",
    "ccgs": "ccg",
    "clinical commissioning group": "ccg",
    "national": NATIONAL,
    "england": NATIONAL,
}

# Abbreviations and short spellings; anything else becomes its own snake_case name.
_METRIC_ALIASES = {
    "total": "total_cases",
    "totals": "total_cases",
    "all_cases": "total_cases",
    "cases": "total_cases",
    "hoha": "hospital_onset_healthcare_associated",
    "coha": "community_onset_healthcare_associated",
    "coia": "community_onset_indeterminate_association",
    "coca": "community_onset_community_associated",
}


# --------------------------------------------------------------------------- values


def _fold(text: str) -> str:
    """A header or label with case, spacing, punctuation at the ends and US spelling folded."""
    folded = re.sub(r"[\s_]+", " ", text.replace("\ufeff", "").lower()).strip(" :?\"'")
    return folded.replace("organization", "organisation")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def organism_name(text: str | None) -> str | None:
    """`E.coli`, `Escherichia coli`, `Ecoli_2018-19.csv` -> `E. coli`; None if none is named."""
    folded = (text or "").lower()
    return next((name for pattern, name in _ORGANISMS if pattern.search(folded)), None)


def organisation_type(text: str | None) -> str | None:
    """`NHS Acute Trust` / `NHS acute trust` -> `acute_trust`; unknown types in snake_case."""
    folded = _fold(text or "")
    return _ORGANISATION_TYPES.get(folded, _slug(folded) or None)


def metric_name(text: str | None) -> str | None:
    """`Community-onset, healthcare associated` -> `community_onset_healthcare_associated`."""
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", text or "")
    slug = _slug(bare)
    return _METRIC_ALIASES.get(slug, slug) or None


def archive_metric(title: str) -> str:
    """What an archive table counts, from its title (see the module docstring)."""
    folded = _fold(title)
    if re.search(r"hospital[- ]onset", folded):
        return "hospital_onset"
    if re.search(r"community[- ]onset", folded):
        return "community_onset"
    if re.search(r"apportion|assigned", folded):
        return "trust_apportioned"
    return "total_cases"


def clean_figure(text: str | None) -> str | None:
    """A count as published, without padding or thousands separators; blank -> None.

    Only digits in groups of three lose their separators (` 3 231 ` -> `3231`, as every
    feed's figures do: dagster_project/figures.py); anything else (`*`, `n/a`, `1.5`) is
    kept so validation can reject it.
    """
    value = (text or "").strip()
    if not value:
        return None
    return ungroup(value)


def _iso_month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-01"


def month_from_label(label: str) -> str | None:
    """`March 2016`, `Mar-16`, `2016-03` or `2016-03-01` -> `2016-03-01`; else None."""
    text = label.strip()
    match = re.fullmatch(r"([A-Za-z]+\.?)[\s\-/]*(\d{4}|\d{2})", text)
    if match:
        month = month_number(match.group(1))
        year = int(match.group(2))
        return _iso_month(year + 2000 if year < 100 else year, month) if month else None
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})(?:[-/]\d{1,2})?(?:[ T].*)?", text)
    if match and 1 <= int(match.group(2)) <= 12:
        return _iso_month(int(match.group(1)), int(match.group(2)))
    return None


def month_start(year: str | None, month: str | None) -> str | None:
    """A data-capture `Year` and `Month` as the first of the month, ISO.

    `Year` is the calendar year (2019 with month 1 is January 2019). A financial
    year (`2019/20`, `2019-20`) puts January to March in its second year. A
    `Month` that already holds a year (`March 2020`) needs no `Year`.
    """
    month_text = (month or "").strip()
    whole = month_from_label(month_text)
    if whole:
        return whole
    number = month_number(month_text) if month_text else None
    year_text = (year or "").strip()
    if number is None:
        return None
    if re.fullmatch(r"\d{4}", year_text):
        return _iso_month(int(year_text), number)
    financial = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})", year_text)
    if financial:
        first = int(financial.group(1))
        return _iso_month(first + 1 if number <= 3 else first, number)
    return None


# --------------------------------------------------------------------------- reading


def _delimiter(text: str) -> str:
    """The separator used most near the top of the file: semicolons, as UKHSA ships them."""
    sample = text[:8192]
    return max(_DELIMITERS, key=sample.count)


def _rows(csv: LandingCsv) -> list[tuple[int, list[str]]]:
    """Every record with the file line it starts on; blank records dropped, cells stripped."""
    text = csv.text()
    reader = csvlib.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            stripped = [cell.strip() for cell in cells]
            if any(stripped):
                rows.append((line, stripped))
            line = reader.line_num + 1
    except csvlib.Error as exc:
        raise LandingFileError(csv.source, f"is not a readable CSV ({exc})") from exc
    return rows


def _capture_columns(folded: list[str]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for canonical, aliases in _CAPTURE_ALIASES.items():
        index = next((i for i, name in enumerate(folded) if name in aliases), None)
        if index is not None:
            columns[canonical] = index
    return columns if all(c in columns for c in _CAPTURE_REQUIRED) else None


def _archive_columns(folded: list[str]) -> tuple[int, int | None, dict[int, str]] | None:
    """Code column, first name column and month columns of an archive header, if it is one."""
    code = next((i for i, name in enumerate(folded) if _ARCHIVE_CODE.match(name)), None)
    months = {i: m for i, name in enumerate(folded) if (m := month_from_label(name))}
    if code is None or not months:
        return None
    name = next((i for i, n in enumerate(folded) if _ARCHIVE_NAME.match(n)), None)
    return code, name, months


def _find_header(rows: list[tuple[int, list[str]]]) -> tuple[str, int] | None:
    for index, (_, cells) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        folded = [_fold(cell) for cell in cells]
        if _capture_columns(folded) is not None:
            return DATA_CAPTURE, index
        if _archive_columns(folded) is not None:
            return ARCHIVE, index
    return None


def classify_hcai(csv: LandingCsv) -> str | None:
    """`archive`, `data_capture`, or None when the file is not an HCAI table we know."""
    found = _find_header(_rows(csv))
    return found[0] if found else None


# --------------------------------------------------------------------------- parsing


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _parse_capture(
    csv: LandingCsv, rows: list[tuple[int, list[str]]], header: int
) -> list[dict[str, object]]:
    columns = _capture_columns([_fold(cell) for cell in rows[header][1]]) or {}
    width = header_width(rows[header][1])
    fallback_organism = organism_name(csv.csv_name)
    records: list[dict[str, object]] = []
    for line, cells in rows[header + 1 :]:
        value = {name: _cell(cells, index) for name, index in columns.items()}
        identified = ("organisation_code", "organisation_name", "metric", "figure")
        if not any(value.get(k) for k in identified):
            continue  # a note, copyright line or stray cell after the data
        collection = value.get("organism", "")
        kind = organisation_type(value.get("organisation_type"))
        code = value.get("organisation_code") or (NATIONAL_CODE if kind == NATIONAL else None)
        records.append(
            {
                "row_number": line,
                "organism": organism_name(collection) or collection or fallback_organism,
                "organisation_type": kind,
                "organisation_code": code,
                "organisation_name": value.get("organisation_name") or None,
                "month": month_start(value.get("year"), value.get("month")),
                "metric": metric_name(value.get("metric")),
                "figure": clean_figure(value.get("figure")),
                ROW_PROBLEM: _problem(csv, rows, line, cells, width),
            }
        )
    return records


def _problem(
    csv: LandingCsv, rows: list[tuple[int, list[str]]], line: int, cells: list[str], width: int
) -> str | None:
    """The row's shape fault (ingest.row_shape), the file's last row judged as such."""
    problem = row_problem(cells, width)
    if problem is None and line == rows[-1][0]:
        problem = final_row_problem(csv, cells)
    return problem


def _archive_title(rows: list[tuple[int, list[str]]]) -> str:
    """The `Title:` metadata line, else the first line of the file."""
    for _, cells in rows:
        first = _fold(cells[0]) if cells else ""
        if first == "title":
            return next((cell for cell in cells[1:] if cell), "")
        if first.startswith("title:"):
            return cells[0].split(":", 1)[1].strip()
    return next((cell for cell in rows[0][1] if cell), "") if rows else ""


def _archive_organisation_type(code_header: str, title: str) -> str | None:
    for text in (code_header, title):
        folded = _fold(text)
        if "ccg" in folded or "commissioning group" in folded:
            return "ccg"
        if "trust" in folded:
            return "acute_trust"
    return None


def _parse_archive(
    csv: LandingCsv, rows: list[tuple[int, list[str]]], header: int
) -> list[dict[str, object]]:
    header_cells = rows[header][1]
    code_index, name_index, months = _archive_columns([_fold(c) for c in header_cells]) or (
        0,
        None,
        {},
    )
    title = _archive_title(rows[:header])
    common = {
        "organism": organism_name(title) or organism_name(csv.csv_name),
        "metric": archive_metric(title),
    }
    trust_type = _archive_organisation_type(header_cells[code_index], title)
    width = header_width(header_cells)
    first_month = min(months)
    totals_seen: list[list[str | None]] = []
    records: list[dict[str, object]] = []
    for line, cells in rows[header + 1 :]:
        code = _cell(cells, code_index).upper()
        figures = [clean_figure(_cell(cells, index)) for index in months]
        labels = {_fold(cell) for cell in cells[:first_month] if cell}
        if not code and labels & _TOTAL_LABELS:
            if figures in totals_seen:
                continue  # the Totals row is printed above and below the trusts
            totals_seen.append(figures)
            organisation = (NATIONAL, NATIONAL_CODE, NATIONAL_NAME)
        elif _ORG_CODE.match(code) or any(figures):
            # A row of figures without a code is kept, for validation to quarantine by rule.
            name = _FOOTNOTE_MARK.sub("", _cell(cells, name_index)).strip()
            organisation = (trust_type, code or None, name or None)
        else:
            continue  # a note line or a spacer
        problem = _problem(csv, rows, line, cells, width)
        for month, figure in zip(months.values(), figures, strict=True):
            records.append(
                {
                    "row_number": line,
                    **common,
                    "organisation_type": organisation[0],
                    "organisation_code": organisation[1],
                    "organisation_name": organisation[2],
                    "month": month,
                    "figure": figure,
                    ROW_PROBLEM: problem,
                }
            )
    return records


def parse_hcai(csv: LandingCsv) -> pd.DataFrame:
    """Either layout as one long frame in `COLUMNS`, every value text, stamped with its source.

    Raises LandingFileError when the file cannot be read or has no header we
    recognise; everything readable is kept for validation to judge.
    """
    rows = _rows(csv)
    found = _find_header(rows)
    if found is None:
        raise LandingFileError(
            csv.source,
            "has no UKHSA HCAI header (neither Organisation code/Metric/Figure "
            "nor a code column with month columns)",
        )
    kind, header = found
    parse = _parse_capture if kind == DATA_CAPTURE else _parse_archive
    frame = pd.DataFrame(
        parse(csv, rows, header), columns=["row_number", *HCAI_COLUMNS, ROW_PROBLEM]
    )
    # The project's codes for organisms and metrics (seeds), given here once for every stage.
    frame["organism"] = frame["organism"].map(reference.hcai_organisms())
    metrics = reference.hcai_metrics()
    frame["metric"] = frame["metric"].map(lambda m: metrics.get(m, m), na_action="ignore")
    frame = stamp(frame, csv.source, csv.sha256, f"hcai_{kind}")
    frame["row_number"] = frame["row_number"].astype("int64")
    text_columns = [c for c in COLUMNS if c != "row_number"]
    frame[text_columns] = frame[text_columns].astype("str")
    frame[ROW_PROBLEM] = frame[ROW_PROBLEM].astype("string")
    return frame[[*COLUMNS, ROW_PROBLEM]]
