"""The survey publishers' own files, beside the project's extract format (`layouts.py`).

- The CQC's adult inpatient survey trust-level benchmark data: an OpenDocument workbook,
  sheet `Trust_Scores`, columns `trustcode`, `trustname`, `n_tpat` (respondents) and per
  question a mean score from 0 to 10 (`meanq45`). The responsiveness indicator is the mean
  of five questions' scores on NHS Digital's 0 to 100 scale, so each score is multiplied by
  10 (`CQC_TO_INDICATOR_SCALE`); which five questions depends on the survey year.
- The NHS Staff Survey's detailed spreadsheets of organisational results
  (`NSS23 detailed spreadsheets organisational results.xlsx`): a sheet per block of
  questions, each question named in a merged cell above its answers (`Q25d - If a friend
  ...`), the header row holding the organisation's columns and a percentage per answer
  (`% Agree`, `% Strongly agree`, `Base (number of responses)`). The indicator is the agree
  and strongly agree percentages added, as NHS Digital's Quality Accounts guidance says.

Both renumber their questions every year, so the question behind each of the project's
columns comes from seed `survey_questions` (with its source) for the year the file's name
states; a year the seed does not cover is refused with a message saying so, never guessed.
Each file is recognised by its header and parsed into the same columns as the extract, so
the same suite, staging model and indicator apply.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from dagster_project.ingest import reference, tabular
from dagster_project.ingest.landing import LandingCsv, LandingFileError, stamp
from dagster_project.ingest.row_shape import ROW_PROBLEM
from dagster_project.ingest.tabular import Column, Layout, fold

# The CQC scores each question from 0 to 10; the indicator is on NHS Digital's 0 to 100.
CQC_TO_INDICATOR_SCALE = Decimal(10)
RESPONSIVENESS_ITEMS = ("q1", "q2", "q3", "q4", "q5")

# How a CQC benchmark workbook is recognised (the question columns vary by year).
CQC_INPATIENT = Layout(
    kind="inpatient_survey",
    table="inpatient_survey",
    columns=(
        Column("organisation_code", ("trustcode",)),
        Column("organisation_name", ("trustname",), required=False),
        Column("respondents", ("n_tpat",)),
    ),
    sheets=("Trust_Scores",),
)

# How an NHS Staff Survey organisational results workbook is recognised: the organisation's
# columns on the header row of every question sheet.
NSS_ORGANISATIONS = Layout(
    kind="staff_survey",
    table="staff_survey",
    columns=(
        Column("organisation_code", ("ods code", "organisation code", "org code")),
        Column("organisation_name", ("organisation name",), required=False),
        Column("benchmarking_group", ("benchmarking group",)),
        Column("weighting", ("weighting",)),
    ),
)


def _has_header(csv: LandingCsv, layout: Layout) -> bool:
    """Whether the file has the layout's header; a workbook without it may still be the
    project's extract, so its refusal is left to that layout."""
    try:
        return tabular.find_header(csv, layout) is not None
    except LandingFileError:
        return False


def is_cqc_inpatient(csv: LandingCsv) -> bool:
    return _has_header(csv, CQC_INPATIENT)


def is_nss_organisational(csv: LandingCsv) -> bool:
    return csv.is_workbook and _has_header(csv, NSS_ORGANISATIONS)


def _financial_year(year: int) -> str:
    """Survey year N is reported in financial year N to N+1."""
    return f"{year}-{(year + 1) % 100:02d}"


def _year_in(texts: Sequence[str], short: str, long: str) -> int | None:
    """The survey year a name or title states: `IP20`, `aip20` (CQC) or `NSS23` (Staff
    Survey) as two digits after the survey's mark, else a four-digit year after its words
    (`Adult Inpatient Survey 2023`, `NHS Staff Survey 2023`)."""
    for text in texts:
        words = f" {text.lower().replace('_', ' ').replace('-', ' ')} "
        mark = re.search(rf"(?<![a-z0-9]){short}\s?(\d{{2}}|20\d{{2}})(?![0-9])", words)
        if mark:
            digits = mark.group(1)
            return int(digits) if len(digits) == 4 else 2000 + int(digits)
        named = re.search(rf"{long}\D{{0,12}}(20\d{{2}})(?![0-9])", words)
        if named:
            return int(named.group(1))
    return None


def _questions(
    csv: LandingCsv, survey: str, year: int, items: Sequence[str]
) -> dict[str, tuple[str, str]]:
    found = reference.survey_questions(survey, year)
    missing = [item for item in items if item not in found]
    if missing:
        raise LandingFileError(
            csv.source,
            f"is the {year} {survey.replace('_', ' ')}, and seed survey_questions names no "
            f"question for {', '.join(missing)} in {year}: add the year's question numbers, "
            "with their source, to seeds/survey_questions.csv",
        )
    return found


def _number(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _plain(value: Decimal) -> str:
    """A decimal as written, without an exponent or trailing zeros (`78.30` -> `78.3`)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0",) else "0"


# ----------------------------------------------------------------------------- CQC


def _finish_cqc(
    frame: pd.DataFrame, csv: LandingCsv, _: list[list[str]], year: int
) -> pd.DataFrame:
    """The survey year from the file, and each score on the indicator's 0 to 100 scale; a
    score that is not a number (blank where the CQC suppressed it) stays as published for
    the suite to judge."""
    frame["survey_year"] = str(year)
    frame = frame.rename(columns={f"cqc_{item}": item for item in RESPONSIVENESS_ITEMS})
    for item in RESPONSIVENESS_ITEMS:
        frame[item] = [
            _plain(n * CQC_TO_INDICATOR_SCALE) if (n := _number(v)) is not None else v
            for v in frame[item]
        ]
    frame["financial_year"] = _financial_year(year)
    return frame


def _cqc_year(csv: LandingCsv) -> int:
    titles = [csv.csv_name.rsplit(".", 1)[0]]
    found = tabular.header_rows(tabular.rows(csv, CQC_INPATIENT), CQC_INPATIENT)
    if found is not None:
        for _, cells in _rows_up_to(tabular.rows(csv, CQC_INPATIENT), found[0] - 1):
            titles.append(" ".join(str(c) for c in cells if c is not None))
    year = _year_in(titles, "a?ip", r"inpatient survey")
    if year is None:
        raise LandingFileError(
            csv.source,
            "does not say which adult inpatient survey year it holds (the CQC names its "
            "files like `20220128_aip20_trust-benchmark-data.ods`; name it so, or with "
            "`Adult Inpatient Survey 2023`)",
        )
    return year


def _rows_up_to(
    numbered: Iterator[tuple[int, Sequence[object]]], last: int
) -> Iterator[tuple[int, Sequence[object]]]:
    """The rows numbered up to `last`."""
    for number, cells in numbered:
        if number > last:
            return
        yield number, cells


def cqc_layout(year: int, questions: dict[str, tuple[str, str]]) -> Layout:
    """The year's layout: each responsiveness column read from its question's mean score
    (`meanq34` for question 34), named apart from the file's own `q..` columns until read."""
    return Layout(
        kind="inpatient_survey",
        table="inpatient_survey",
        columns=(
            Column("organisation_code", ("trustcode",)),
            Column("survey_year", ("survey year",), required=False),
            # Named apart (`cqc_q1`) so the file's own `q1` column is never taken for it.
            *(Column(f"cqc_{i}", _mean_spellings(questions[i][0])) for i in RESPONSIVENESS_ITEMS),
        ),
        sheets=("Trust_Scores",),
        finish=partial(_finish_cqc, year=year),
        derived=("financial_year",),
    )


def _mean_spellings(question: str) -> tuple[str, ...]:
    code = fold(question).replace(" ", "")
    return (f"mean{code}", f"{code} mean", f"mean {code}")


def parse_cqc(csv: LandingCsv) -> tabular.Batches:
    year = _cqc_year(csv)
    questions = _questions(csv, "inpatient_survey", year, RESPONSIVENESS_ITEMS)
    layout = cqc_layout(year, questions)
    if tabular.find_header(csv, layout) is None:
        wanted = ", ".join(f"mean{questions[i][0].lower()}" for i in RESPONSIVENESS_ITEMS)
        raise LandingFileError(
            csv.source,
            f"is the {year} adult inpatient survey, but its Trust_Scores header lacks the "
            f"scores of the questions seed survey_questions names for {year} ({wanted})",
        )
    return tabular.batches(csv, layout)


# ----------------------------------------------------------------------------- NHS Staff Survey

_QUESTION = re.compile(r"^\s*Q\s?(\d{1,3}[a-z]?)(?![a-z0-9])\W*(.*)$", re.IGNORECASE | re.DOTALL)


def _letters(text: object) -> str:
    return re.sub(r"[^a-z]", "", str(text or "").lower())


def _nss_year(csv: LandingCsv) -> int:
    year = _year_in(
        [csv.csv_name.rsplit(".", 1)[0], *tabular.workbook_titles(csv)], "nss", "staff survey"
    )
    if year is None:
        raise LandingFileError(
            csv.source,
            "does not say which NHS Staff Survey year it holds (name it as published, "
            "`NSS23 detailed spreadsheets organisational results.xlsx`)",
        )
    return year


def _question_span(
    above: list[Sequence[object]], width: int, code: str
) -> tuple[int, int, str] | None:
    """(first column, column after the last, the label's text) of question `code` (`25d`)
    in the rows above the header: its label sits in the first cell of a merged range over
    its answers, so the span runs to the next question's label."""
    for cells in above:
        starts = []
        for index, cell in enumerate(cells):
            match = _QUESTION.match(str(cell)) if isinstance(cell, str) else None
            if match:
                starts.append((index, match.group(1).lower(), match.group(2)))
        for position, (index, found, text) in enumerate(starts):
            if found == code:
                end = starts[position + 1][0] if position + 1 < len(starts) else width
                return index, end, text
    return None


def _open(csv: LandingCsv) -> openpyxl.Workbook:
    try:
        return openpyxl.load_workbook(io.BytesIO(csv.data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise LandingFileError(csv.source, f"is not a readable Excel workbook ({exc})") from exc


def _nss_rows(
    csv: LandingCsv, question: str, wording: str
) -> tuple[str, int, dict[str, int], Iterator[tuple[int, list[object]]]]:
    """(sheet, header row, where the columns are, the data rows) of the sheet holding
    `question` (`Q25d`)."""
    code = question.lower().lstrip("q")
    book = _open(csv)
    for name in book.sheetnames:
        sheet = book[name]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_row=tabular.HEADER_SEARCH_ROWS, values_only=True)
        head = [(n, list(cells)) for n, cells in enumerate(rows, 1)]
        matches = [(n, NSS_ORGANISATIONS.match(cells)) for n, cells in head]
        number, columns = next(((n, m) for n, m in matches if m), (0, None))
        if columns is None:
            continue
        cells = list(head[number - 1][1])
        span = _question_span([c for n, c in head if n < number], len(cells), code)
        if span is None:
            continue
        first, end, label = span
        # The wording's opening words, so a full stop or a reworded ending is no mismatch.
        if label.strip() and _letters(wording)[:40] not in _letters(label):
            raise LandingFileError(
                csv.source,
                f"question {question} (sheet {name!r}) reads {label.strip()!r}, not the "
                f"wording seed survey_questions gives for it ({wording!r}): check the seed's "
                "question number for this year",
            )
        where = {name_: index for index, name_ in columns.items()}
        answers = {_letters(cells[i]): i for i in range(first, min(end, len(cells)))}
        for answer in ("agree", "stronglyagree"):
            if answer not in answers:
                raise LandingFileError(
                    csv.source,
                    f"question {question} (sheet {name!r}) has no '% Agree' and "
                    f"'% Strongly agree' columns under it (found: "
                    f"{', '.join(str(cells[i]) for i in range(first, min(end, len(cells))))})",
                )
        where["agree"], where["strongly_agree"] = answers["agree"], answers["stronglyagree"]

        def data(sheet=sheet, start=number + 1) -> Iterator[tuple[int, list[object]]]:
            try:
                for row_number, row in enumerate(
                    sheet.iter_rows(min_row=start, values_only=True), start
                ):
                    yield row_number, list(row)
            finally:
                book.close()

        return name, number, where, data()
    book.close()
    raise LandingFileError(
        csv.source,
        f"has no sheet with question {question} above its header (the question seed "
        "survey_questions names for the file's year)",
    )


def _recommend(agree: str, strongly: str) -> str | None:
    """Agree plus strongly agree, added as written (no binary rounding); a blank or a mark
    that is not a number (`*`) is kept as published, for the suite to judge."""
    a, s = _number(agree), _number(strongly)
    if a is not None and s is not None:
        return _plain(a + s)
    for text in (agree, strongly):
        if not text or _number(text) is None:
            return text or None
    return None


def parse_nss(csv: LandingCsv) -> tabular.Batches:
    """The organisations' share agreeing, one frame (a file holds a few hundred organisations)."""
    year = _nss_year(csv)
    question, wording = _questions(csv, "staff_survey", year, ("recommend_care",))["recommend_care"]
    _, _, where, data = _nss_rows(csv, question, wording)
    counts = tabular.ParseCounts()

    def frames() -> Iterator[pd.DataFrame]:
        numbers, codes, values = [], [], []
        for number, cells in data:
            text = [tabular._cell_text(c) or "" for c in cells]
            at = partial(_at, text)
            code = at(where["organisation_code"])
            if not any(text):
                continue
            if not code:
                counts.note(number)
                continue
            numbers.append(number)
            codes.append(code)
            values.append(_recommend(at(where["agree"]), at(where["strongly_agree"])))
        counts.rows += len(numbers)
        frame = pd.DataFrame(
            {
                "row_number": pd.array(numbers, dtype="int64"),
                "organisation_code": codes,
                "survey_year": str(year),
                "recommend_care": values,
                ROW_PROBLEM: None,
                "financial_year": _financial_year(year),
            }
        )
        frame = stamp(frame, csv.source, csv.sha256, NSS_ORGANISATIONS.kind)
        text_columns = [c for c in frame.columns if c != "row_number"]
        frame[text_columns] = frame[text_columns].astype("string")
        yield frame

    return tabular.Batches(frames(), counts)


def _at(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""
