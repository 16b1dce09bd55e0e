"""The EQ-5D-3L value set, quarantine at the right grain, and the suite machinery.

- `eq5d_index` against answers worked by hand from DOMAIN.md section 3 (Dolan 1997).
- A real-layout hip file with faults planted on known lines, through `ingest_feed` and
  `validate_feed`: a broken identity quarantines the whole record; a broken measure sets
  aside that measure only; the quarantine holds exactly the planted lines and rules.
- `suites`: a suite that is itself broken raises `SuiteError` rather than passing or
  failing data.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO_ROOT, skip_or_fail

from dagster_project.home import resolve_home
from dagster_project.ingest.run import ingest_feed
from dagster_project.validation.derived import eq5d_index
from dagster_project.validation.run import validate_feed
from dagster_project.validation.suites import SuiteError, load_suite, run_suite

# --------------------------------------------------------------------------- EQ-5D

# DOMAIN.md section 3: UK TTO value set (Dolan 1997). Dimension order as in the profile:
# mobility, self-care, usual activities, pain/discomfort, anxiety/depression.
ANY_ABOVE_1 = 0.081
ANY_AT_3 = 0.269
DECREMENT = [
    {1: 0.0, 2: 0.069, 3: 0.314},
    {1: 0.0, 2: 0.104, 3: 0.214},
    {1: 0.0, 2: 0.036, 3: 0.094},
    {1: 0.0, 2: 0.123, 3: 0.386},
    {1: 0.0, 2: 0.071, 3: 0.236},
]


def _by_hand(profile: str) -> float:
    levels = [int(c) for c in profile]
    value = 1.0
    if any(level > 1 for level in levels):
        value -= ANY_ABOVE_1
    if any(level == 3 for level in levels):
        value -= ANY_AT_3
    for dimension, level in enumerate(levels):
        value -= DECREMENT[dimension][level]
    return round(value, 3)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("11111", 1.0),
        ("33333", -0.594),
        ("21111", 0.850),  # 1 - 0.081 - 0.069
        ("11112", 0.848),  # 1 - 0.081 - 0.071
        ("11113", 0.414),  # 1 - 0.081 - 0.269 - 0.236
        ("11211", 0.883),  # 1 - 0.081 - 0.036
        ("22222", 0.516),  # 1 - 0.081 - 0.069 - 0.104 - 0.036 - 0.123 - 0.071
        ("12321", 0.329),  # 1 - 0.081 - 0.269 - 0.104 - 0.094 - 0.123
        ("11131", 0.264),  # 1 - 0.081 - 0.269 - 0.386
        ("22232", -0.016),  # 1 - 0.081 - 0.269 - 0.069 - 0.104 - 0.036 - 0.386 - 0.071
    ],
)
def test_eq5d_index_known_answers(profile: str, expected: float) -> None:
    assert _by_hand(profile) == pytest.approx(expected, abs=1e-9)
    got = eq5d_index(pd.Series([profile]))
    assert got.iloc[0] == pytest.approx(expected, abs=5e-4)


def test_eq5d_index_every_profile_matches_the_value_set() -> None:
    profiles = ["".join(p) for p in itertools.product("123", repeat=5)]
    got = eq5d_index(pd.Series(profiles, index=range(100, 100 + len(profiles))))
    assert list(got.index) == list(range(100, 100 + len(profiles)))
    expected = np.array([_by_hand(p) for p in profiles])
    worst = np.abs(got.to_numpy() - expected)
    assert worst.max() < 5e-4, f"{profiles[int(worst.argmax())]}: {got.iloc[worst.argmax()]}"
    assert got.min() == pytest.approx(-0.594) and got.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "profile",
    ["11119", "91111", "99999", "1111", "111111", "12345", "1a111", "", None, "1 111"],
)
def test_eq5d_index_is_nan_for_an_incomplete_or_malformed_profile(profile) -> None:
    got = eq5d_index(pd.Series([profile, "11111"], dtype=object))
    assert np.isnan(got.iloc[0])
    assert got.iloc[1] == pytest.approx(1.0)


@pytest.mark.realdata
def test_published_indices_agree_with_the_value_set(proms_data_dir: Path) -> None:
    """NHS Digital's own index for every profile in a real record-level file."""
    import zipfile

    zips = sorted((proms_data_dir / "2017-18").glob("Hip*.zip"))
    if not zips:
        skip_or_fail(f"no 2017-18 hip record-level file in {proms_data_dir}")
    with zipfile.ZipFile(zips[0]) as archive:
        [member] = [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
        with archive.open(member) as handle:
            columns = [f"{s}-Op Q EQ5D Index{t}" for s in ("Pre", "Post") for t in (" Profile", "")]
            frame = pd.read_csv(handle, usecols=columns, dtype=str, keep_default_na=False)
    pairs = pd.concat(
        [
            frame[[f"{s}-Op Q EQ5D Index Profile", f"{s}-Op Q EQ5D Index"]].set_axis(
                ["profile", "index"], axis=1
            )
            for s in ("Pre", "Post")
        ]
    ).drop_duplicates()
    pairs = pairs[pairs["profile"].str.fullmatch(r"[123]{5}") & (pairs["index"] != "")]
    assert len(pairs) > 100
    ours = eq5d_index(pairs["profile"])
    published = pairs["index"].astype(float)
    differs = pairs[(ours - published).abs() > 5e-4]
    assert differs.empty, f"profiles whose published index differs: {differs.head(10)}"


# --------------------------------------------------------------------------- quarantine

SUITE = json.loads((REPO_ROOT / "expectations" / "proms_hip_records.json").read_text())
RULES = {e["meta"]["rule"]: e for e in SUITE["expectations"]}
GROUPS: dict[str, list[str]] = SUITE["meta"]["groups"]
MEASURES = ("oxford", "eq5d", "eq_vas")
RECORDS = 100
FILE_NAME = "Hip Replacement Provider 2324.csv"
PRE_ITEM = "Hip Replacement Pre-Op Q Night Pain"  # the third Oxford item: pre_oxford_q03
CANONICAL = {
    "Provider Code": "provider_code",
    "Revision Flag": "revision_flag",
    "Year": "year_label",
    PRE_ITEM: "pre_oxford_q03",
    "Hip Replacement Post-Op Q Score": "post_oxford_score",
    "Pre-Op Q EQ5D Index": "pre_eq5d_index",
    "Post-Op Q EQ VAS": "post_eq_vas",
}


@dataclass(frozen=True)
class Plant:
    """One fault put on one line: the published column, its new value, what must follow."""

    name: str
    column: str
    value: str
    rules: frozenset[str]
    grain: str  # "record" or the measure group set aside


@dataclass
class Planted:
    home: object
    original: pd.DataFrame  # the file as written, every cell text, indexed by line number
    plants: dict[int, Plant]  # line number -> plant
    report: object
    raw: pd.DataFrame
    quarantine: pd.DataFrame


def _pick(frame: pd.DataFrame, mask: pd.Series, taken: set[int]) -> int:
    for line in frame.index[mask]:
        if line not in taken:
            taken.add(line)
            return int(line)
    raise AssertionError("the synthetic file has no line fit for a plant")


def _plants(frame: pd.DataFrame) -> dict[int, Plant]:
    """Choose a clean line for each fault and work out the planted value."""
    pre_items = [c for c in frame.columns if c.startswith("Hip Replacement Pre-Op Q ")][:12]
    post_items = [c for c in frame.columns if c.startswith("Hip Replacement Post-Op Q ")][:12]
    assert pre_items[2] == PRE_ITEM
    answered = {
        stage: frame[items].isin(["0", "1", "2", "3", "4"]).all(axis=1)
        for stage, items in (("pre", pre_items), ("post", post_items))
    }
    complete_profile = frame["Pre-Op Q EQ5D Index Profile"].str.fullmatch(r"[123]{5}")
    anything = pd.Series(True, index=frame.index)
    taken: set[int] = set()
    plants: dict[int, Plant] = {}

    def plant(name, mask, column, value, rules, grain):
        line = _pick(frame, mask, taken)
        text = value(line) if callable(value) else value
        plants[line] = Plant(name, column, text, frozenset(rules), grain)

    plant(
        "broken provider code", anything, "Provider Code", "R?X1", {"provider_code_shape"}, "record"
    )
    plant(
        "invalid revision flag", anything, "Revision Flag", "2", {"revision_flag_valid"}, "record"
    )
    plant("bad year", anything, "Year", "2023/25", {"year_valid"}, "record")
    # An item of 7 is not a valid answer, so the items are not all answered either and the
    # score given beside them breaks the blank-when-unanswered rule as well.
    plant(
        "Oxford item of 7",
        answered["pre"],
        PRE_ITEM,
        "7",
        {"oxford_pre_q03_code", "oxford_pre_score_blank_when_item_unanswered"},
        "oxford",
    )

    def off_by_one(line: int) -> str:
        total = sum(int(frame.at[line, c]) for c in post_items)
        return str(total - 1 if total > 0 else total + 1)

    plant(
        "Oxford score not the sum of its items",
        answered["post"],
        "Hip Replacement Post-Op Q Score",
        off_by_one,
        {"oxford_post_score_equals_item_sum"},
        "oxford",
    )

    def shifted_index(line: int) -> str:
        value = float(frame.at[line, "Pre-Op Q EQ5D Index"])
        return f"{value - 0.05 if value > 0.5 else value + 0.05:.3f}"

    plant(
        "EQ-5D index inconsistent with its profile",
        complete_profile,
        "Pre-Op Q EQ5D Index",
        shifted_index,
        {"eq5d_pre_index_matches_profile"},
        "eq5d",
    )
    plant("EQ VAS of 150", anything, "Post-Op Q EQ VAS", "150", {"eq_vas_post_range"}, "eq_vas")
    return plants


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Planted:
    from dagster_project.synth import write_synthetic_region

    root = tmp_path_factory.mktemp("planted")
    write_synthetic_region(
        root / "synth", root / "truth.json", providers=12, years=("2023-24",), seed=11, feeds=[]
    )
    lines = (root / "synth" / "proms" / FILE_NAME).read_text().splitlines()
    header = lines[0].split(",")
    body = [line.split(",") for line in lines[1 : RECORDS + 1]]
    assert all(len(cells) == len(header) for cells in body), "synthetic file is quoted"
    frame = pd.DataFrame(body, columns=header, index=range(2, RECORDS + 2))
    plants = _plants(frame)

    edited = frame.copy()
    for line, plant in plants.items():
        edited.at[line, plant.column] = plant.value
    home = resolve_home(root / "home").ensure()
    landing = home.landing / "proms"
    landing.mkdir(parents=True, exist_ok=True)
    text = "\r\n".join([",".join(header), *(",".join(row) for row in edited.to_numpy())])
    (landing / FILE_NAME).write_bytes((text + "\r\n").encode())

    ingest_feed(home, "proms")
    report = validate_feed(home, "proms")
    raw = _read_tables(home.raw / "proms_records")
    quarantine = _read_tables(home.quarantine / "proms_records")
    return Planted(home, frame, plants, report, raw, quarantine)


def _read_tables(folder: Path) -> pd.DataFrame:
    files = sorted(p for p in folder.glob("*.parquet") if p.name != "_empty.parquet")
    assert len(files) == 1, f"expected one Parquet file in {folder}, found {files}"
    return pd.read_parquet(files[0])


def _raw_row(planted: Planted, line: int) -> pd.Series:
    rows = planted.raw[planted.raw["row_number"] == line]
    assert len(rows) == 1, f"line {line} should be in raw exactly once, found {len(rows)}"
    return rows.iloc[0]


def test_planted_rules_exist_in_the_suite(planted: Planted) -> None:
    for plant in planted.plants.values():
        for rule in plant.rules:
            assert rule in RULES, f"{rule} is not a rule of proms_hip_records"
            assert RULES[rule]["meta"].get("grain", "record") == plant.grain, rule


def test_identity_failures_quarantine_the_whole_record(planted: Planted) -> None:
    record_lines = {line for line, p in planted.plants.items() if p.grain == "record"}
    assert len(record_lines) == 3
    assert not set(planted.raw["row_number"]) & record_lines, "a broken record reached raw"
    entries = planted.quarantine[planted.quarantine["row_number"].isin(record_lines)]
    assert set(entries["grain"]) == {"record"}
    assert set(entries["action"]) == {"record quarantined"}
    assert set(entries["row_number"]) == record_lines


@pytest.mark.parametrize("measure", MEASURES)
def test_measure_failures_set_aside_only_that_measure(planted: Planted, measure: str) -> None:
    lines = [line for line, p in planted.plants.items() if p.grain == measure]
    assert lines, f"nothing planted for {measure}"
    for line in lines:
        row = _raw_row(planted, line)
        assert row["set_aside"] == measure, f"line {line}: set_aside {row['set_aside']!r}"
        filled = [c for c in GROUPS[measure] if pd.notna(row[c])]
        assert not filled, f"line {line}: {measure} columns kept values: {filled}"
        for other in MEASURES:
            if other == measure:
                continue
            kept = [c for c in GROUPS[other] if pd.notna(row[c])]
            assert kept, f"line {line}: {other} lost its values when {measure} was set aside"
            _assert_same_values(planted, line, row, GROUPS[other])


def _assert_same_values(planted: Planted, line: int, row: pd.Series, columns: list[str]) -> None:
    """The raw row's values are the published ones (blank, 9 and 999 stay as published)."""
    from dagster_project.ingest.proms import record_column_map

    original = planted.original.loc[line]
    by_canonical = {v: k for k, v in record_column_map(list(planted.original.columns)).items()}
    for column in columns:
        published = original[by_canonical[column]]
        value = row[column]
        if published == "":
            assert pd.isna(value), f"line {line} {column}: {value!r} for a blank"
        elif isinstance(value, str):
            assert value == published, f"line {line} {column}: {value!r} != {published!r}"
        else:
            assert float(value) == pytest.approx(float(published)), f"line {line} {column}"


def test_clean_records_keep_every_value(planted: Planted) -> None:
    clean = planted.raw[~planted.raw["row_number"].isin(planted.plants)]
    assert len(clean) == RECORDS - len(planted.plants)
    assert clean["set_aside"].isna().all()
    for line in clean["row_number"].head(5):
        row = _raw_row(planted, int(line))
        for measure in MEASURES:
            _assert_same_values(planted, int(line), row, GROUPS[measure])


def test_quarantine_holds_exactly_the_planted_lines_and_rules(planted: Planted) -> None:
    got = {
        (int(e.row_number), e.rule)
        for e in planted.quarantine[["row_number", "rule"]].itertuples(index=False)
    }
    expected = {(line, rule) for line, p in planted.plants.items() for rule in p.rules}
    names = {line: p.name for line, p in planted.plants.items()}
    assert got == expected, (
        f"quarantined but not planted: {sorted(got - expected)}; planted but not "
        f"quarantined: {sorted(expected - got)}; plants by line: {names}"
    )
    assert len(planted.quarantine) == len(expected), "a rule was reported twice for a line"
    for entry in planted.quarantine.itertuples():
        plant = planted.plants[int(entry.row_number)]
        rule = RULES[entry.rule]
        assert entry.source_file == FILE_NAME
        assert entry.grain == plant.grain
        assert entry.reason == rule["meta"]["reason"]
        column = rule["kwargs"].get("column") or rule["kwargs"].get("column_A")
        assert entry.column_name == column
        if entry.rule in {"provider_code_shape", "revision_flag_valid", "eq_vas_post_range"}:
            assert entry.value == plant.value
        if entry.rule == "oxford_pre_q03_code":
            assert entry.value == "7"
        if plant.grain != "record":
            assert entry.action == f"{plant.grain} set aside"
        # The quarantine keeps the record as published, planted fault included.
        published = json.loads(entry.record)
        assert published[CANONICAL[plant.column]] == plant.value


def test_every_input_row_ends_in_raw_or_quarantine(planted: Planted) -> None:
    lines = set(planted.original.index)
    in_raw = set(planted.raw["row_number"].astype(int))
    whole = planted.quarantine[planted.quarantine["grain"] == "record"]
    quarantined = set(whole["row_number"].astype(int))
    assert len(planted.raw) == len(in_raw), "a line appears twice in raw"
    assert not in_raw & quarantined
    assert in_raw | quarantined == lines
    [file] = planted.report.files
    assert file.rows_in == RECORDS
    assert file.rows_valid == len(planted.raw) == RECORDS - 3
    assert file.records_quarantined == 3
    assert file.quarantine_entries == len(planted.quarantine)
    assert sum(file.by_rule.values()) == len(planted.quarantine)
    assert not file.blocking, f"3 of {RECORDS} records is within the suite's limit"


# --------------------------------------------------------------------------- suites


def _write_suite(directory: Path, name: str, expectations: list[dict], meta=None) -> None:
    document = {"name": name, "meta": meta or {}, "expectations": expectations}
    (directory / f"{name}.json").write_text(json.dumps(document, indent=2))


FRAME = pd.DataFrame({"code": ["1", "2", "x"], "other": ["1", None, "3"]})


def test_a_sound_suite_reports_failing_rows(tmp_path: Path) -> None:
    _write_suite(
        tmp_path,
        "sound",
        [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "code", "value_set": ["1", "2"]},
                "meta": {"rule": "code_valid", "reason": "code is not 1 or 2"},
            }
        ],
    )
    failures = run_suite(FRAME, load_suite("sound", directory=tmp_path))
    assert [(f.rule.name, f.index) for f in failures] == [("code_valid", [2])]


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_column_values_to_be_purple", "kwargs": {"column": "code"}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "code", "value_sett": ["1", "2"]},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "code", "min_value": "zero", "max_value": 1},
        },
    ],
    ids=["unknown_type", "misspelt_kwarg", "kwarg_of_wrong_type"],
)
def test_a_malformed_rule_raises_suite_error(tmp_path: Path, expectation: dict) -> None:
    _write_suite(tmp_path, "broken", [{**expectation, "meta": {"rule": "broken_rule"}}])
    with pytest.raises(SuiteError, match=r"broken\.json"):
        run_suite(FRAME, load_suite("broken", directory=tmp_path))


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "missing"}},
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "missing", "value_set": ["1"]},
        },
        {
            "type": "expect_column_pair_values_to_be_equal",
            "kwargs": {"column_A": "code", "column_B": "missing"},
        },
    ],
    ids=["not_null", "in_set", "column_pair"],
)
def test_a_rule_whose_metric_errors_raises_suite_error(tmp_path: Path, expectation) -> None:
    _write_suite(tmp_path, "ghost", [{**expectation, "meta": {"rule": "ghost_column"}}])
    with pytest.raises(SuiteError, match="ghost_column"):
        run_suite(FRAME, load_suite("ghost", directory=tmp_path))


def test_load_suite_refuses_repeated_rule_names_and_undefined_grains(tmp_path: Path) -> None:
    rule = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "code"}}
    _write_suite(
        tmp_path, "twice", [{**rule, "meta": {"rule": "r"}}, {**rule, "meta": {"rule": "r"}}]
    )
    with pytest.raises(SuiteError, match="repeated"):
        load_suite("twice", directory=tmp_path)
    _write_suite(tmp_path, "grainless", [{**rule, "meta": {"rule": "r", "grain": "oxford"}}])
    with pytest.raises(SuiteError, match="oxford"):
        load_suite("grainless", directory=tmp_path)
    with pytest.raises(SuiteError, match="absent"):
        load_suite("absent", directory=tmp_path)
