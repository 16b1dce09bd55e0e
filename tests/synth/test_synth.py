"""The synthetic region: published layouts byte for byte, and outliers exactly where planted.

Every check reads the written files, as a pipeline would, rather than the
generator's internals.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dagster_project.synth import write_synthetic_region

REPO = Path(__file__).resolve().parents[2]
REAL_PROMS = REPO.parent / "shared" / "data" / "proms" / "2017-18"
YEARS = ("2023-24", "2024-25")
Z95, Z998 = 1.959964, 3.090232
REGIONS = {"Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"}
PROCEDURES = {
    "Hip Replacement": ("Oxford Hip Score", "OHS", "EQ5D Index", "EQ VAS Post-Op"),
    "Knee Replacement": ("Oxford Knee Score", "OKS", "EQ 5D Index", "EQ VAS_Post-Op"),
}
# Dolan (1997) UK TTO value set, as in DOMAIN.md section 3.
TARIFF = {
    0: {2: 0.069, 3: 0.314},
    1: {2: 0.104, 3: 0.214},
    2: {2: 0.036, 3: 0.094},
    3: {2: 0.123, 3: 0.386},
    4: {2: 0.071, 3: 0.236},
}


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("synth")
    summary = write_synthetic_region(root / "landing", root / "truth.json")
    truth = json.loads((root / "truth.json").read_text())
    return {"landing": root / "landing", "summary": summary, "truth": truth, "frames": {}}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _records(region: dict, label: str, year: str) -> pd.DataFrame:
    key = (label, year)
    if key not in region["frames"]:
        name = f"{label} Provider {year[2:4]}{year[5:]}.csv"
        region["frames"][key] = _read(region["landing"] / "proms" / name)
    return region["frames"][key]


def _partlink(region: dict, year: str) -> pd.DataFrame:
    name = f"PartLink Hip and Knee Replacement {year[2:4]}{year[5:]}.csv"
    return _read(region["landing"] / "proms" / name)


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series.replace({"": None, "999": None}), errors="raise")


def _real_header(prefix: str) -> bytes:
    archive = next(REAL_PROMS.glob(f"{prefix}*.zip"))
    with zipfile.ZipFile(archive) as z:
        member = next(n for n in z.namelist() if not n.startswith("__MACOSX"))
        return z.read(member).split(b"\n", 1)[0] + b"\n"


@pytest.mark.realdata
@pytest.mark.skipif(not REAL_PROMS.exists(), reason=f"real PROMs pack not found at {REAL_PROMS}")
@pytest.mark.parametrize(
    ("real", "ours"),
    [
        ("Hip Replacements Provider", "Hip Replacement Provider 2324.csv"),
        ("Knee Replacements Provider", "Knee Replacement Provider 2324.csv"),
        ("PartLink Hip and Knee", "PartLink Hip and Knee Replacement 2324.csv"),
    ],
)
def test_headers_are_the_published_headers_byte_for_byte(region, real, ours):
    written = (region["landing"] / "proms" / ours).read_bytes()
    assert written.split(b"\n", 1)[0] + b"\n" == _real_header(real)


def test_files_are_named_and_terminated_like_the_published_packs(region):
    files = region["summary"]["files"]
    for year in YEARS:
        code = f"{year[2:4]}{year[5:]}"
        for stem in ("Hip Replacement Provider", "Knee Replacement Provider"):
            assert f"proms/{stem} {code}.csv" in files
        assert f"proms/PartLink Hip and Knee Replacement {code}.csv" in files
        for label in PROCEDURES:
            assert set(_records(region, label, year)["Year"]) == {f"{year[:4]}/{year[5:]}"}
    for rel, rows in files.items():
        path = region["landing"] / rel
        if path.suffix == ".zip":  # SHMI as NHS Digital ships it: the trust-level member counts
            with zipfile.ZipFile(path) as archive:
                members = {n: archive.read(n) for n in archive.namelist()}
            data = next(d for n, d in members.items() if "trust level" in n)
            assert all(d.endswith(b"\r\n") for d in members.values()), rel
        else:
            data = path.read_bytes()
        assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n"), rel
        header_lines = 0 if rel.startswith("organisations/") else 1
        assert data.count(b"\r\n") == rows + header_lines, rel


def test_same_arguments_give_the_same_bytes_and_another_seed_does_not(tmp_path):
    def run(name: str, seed: int) -> dict[str, bytes]:
        landing = tmp_path / name / "landing"
        write_synthetic_region(
            landing, tmp_path / name / "truth.json", providers=12, years=["2023-24"],
            seed=seed, records_per_provider=80,
        )  # fmt: skip
        files = {
            p.relative_to(landing).as_posix(): p.read_bytes()
            for p in landing.rglob("*")
            if p.suffix in (".csv", ".zip")
        }
        files["truth.json"] = (tmp_path / name / "truth.json").read_bytes()
        return files

    first, again, other = run("a", 7), run("b", 7), run("c", 8)
    assert first == again
    assert first.keys() == other.keys()
    assert all(first[k] != other[k] for k in first)


def test_codes_are_fictional_and_the_ods_extract_has_its_shape(region):
    truth = region["truth"]["providers"]
    codes = {p["code"] for p in truth}
    assert all(re.fullmatch(r"Z[A-Z]\d{3}", c) for c in codes)
    for label in PROCEDURES:
        assert set(_records(region, label, YEARS[0])["Provider Code"]) == codes
    raw = (region["landing"] / "organisations" / "etr.csv").read_text().splitlines()
    rows = list(csv.reader(io.StringIO("\n".join(raw))))
    assert all(line.startswith('"') and line.endswith('"') for line in raw)
    assert all(line.count('","') == 26 for line in raw)
    assert all(len(r) == 27 for r in rows)
    assert rows[0][0] != "Organisation Code"  # no header line
    for r in rows:
        assert r[0].startswith("Z") and r[1] == r[1].upper()
        assert r[2] in REGIONS and re.fullmatch(r"Q[A-Z0-9]{2}", r[3])
        assert re.fullmatch(r"\d{8}", r[10]) and r[11] == ""
        assert r[17] and r[21] == "0"
    ods = {r[0]: r for r in rows}
    assert {r[2] for r in rows} == REGIONS
    for p in truth:  # every provider is registered; a mistyped code is planted elsewhere
        assert ods[p["code"]][1] == p["name"] and ods[p["code"]][2] == p["region_code"]


@pytest.mark.parametrize("label", list(PROCEDURES))
def test_oxford_scores_are_the_sum_of_their_twelve_items(region, label):
    frame = _records(region, label, YEARS[0])
    for when in ("Pre-Op", "Post-Op"):
        items = frame[[c for c in frame.columns if c.startswith(f"{label} {when} Q ")][:12]]
        assert not items.columns.str.endswith("Score").any()
        values = items.astype(int)
        assert set(np.unique(values)) <= {0, 1, 2, 3, 4, 9}
        answered = (values != 9).all(axis=1)
        score = frame[f"{label} {when} Q Score"]
        assert (score[~answered] == "").all() and (~answered).any()
        assert (score[answered].astype(int) == values[answered].sum(axis=1)).all()


@pytest.mark.parametrize("label", list(PROCEDURES))
def test_eq5d_index_follows_the_profile_and_the_uk_value_set(region, label):
    frame = _records(region, label, YEARS[0])
    for when in ("Pre-Op", "Post-Op"):
        dims = frame[[f"{when} Q {d}" for d in ("Mobility", "Self-Care", "Activity",
                                                "Discomfort", "Anxiety")]]  # fmt: skip
        profile = frame[f"{when} Q EQ5D Index Profile"]
        assert (dims.iloc[:, 0].str.cat(dims.iloc[:, 1:]) == profile).all()
        index = frame[f"{when} Q EQ5D Index"]
        has_gap = profile.str.contains("9")
        assert has_gap.any() and (index[has_gap] == "").all()
        expected = profile[~has_gap].map({p: _tariff(p) for p in set(profile[~has_gap])})
        assert np.allclose(index[~has_gap].astype(float), expected, atol=5e-4)
        assert index[~has_gap].str.fullmatch(r"-?\d(\.\d{1,3})?").all()


def _tariff(profile: str) -> float:
    levels = [int(c) for c in profile]
    value = 1.0 - (0.081 if max(levels) > 1 else 0) - (0.269 if 3 in levels else 0)
    return value - sum(TARIFF[d].get(level, 0) for d, level in enumerate(levels))


def test_tariff_reference_points():
    assert _tariff("11111") == 1.0 and round(_tariff("33333"), 3) == -0.594


@pytest.mark.parametrize("label", list(PROCEDURES))
def test_missing_values_are_written_as_the_packs_write_them(region, label):
    frame = _records(region, label, YEARS[0])
    _, ox, eq, vas = PROCEDURES[label]
    assert (frame["Pre-Op Q EQ VAS"] == "999").any() and (frame["Post-Op Q EQ VAS"] == "999").any()
    assert ((frame["Age Band"] == "*") == (frame["Gender"] == "*")).all()
    assert (frame["Age Band"] == "*").any()
    assert set(frame["Gender"]) <= {"1", "2", "*"}
    assert set(frame["Revision Flag"]) == {"0", "1"}
    comorbid = frame[["Heart Disease", "High Bp", "Arthritis"]].stack()
    assert set(comorbid) == {"1", "9"}
    pairs = {
        f"{label} {ox} Post-Op Q Predicted": (
            f"{label} Pre-Op Q Score",
            f"{label} Post-Op Q Score",
        ),
        f"{label} {eq} Post-Op Q Predicted": ("Pre-Op Q EQ5D Index", "Post-Op Q EQ5D Index"),
        f"{label} {vas} Q Predicted": ("Pre-Op Q EQ VAS", "Post-Op Q EQ VAS"),
    }
    for predicted, (pre, post) in pairs.items():
        complete = _num(frame[pre]).notna() & _num(frame[post]).notna()
        assert ((frame[predicted] != "") == complete).all(), predicted
        decimals = frame.loc[complete, predicted].str.extract(r"\.(\d+)$")[0].str.len()
        assert decimals.max() <= 9


def _z_scores(frame: pd.DataFrame, label: str, measure: str, flag: str) -> pd.DataFrame:
    """NHS Digital's method, from the file: modelled records, z against England."""
    _, ox, eq, vas = PROCEDURES[label]
    columns = {
        PROCEDURES[label][0]: (f"{label} Post-Op Q Score", f"{label} {ox} Post-Op Q Predicted"),
        "EQ-5D Index": ("Post-Op Q EQ5D Index", f"{label} {eq} Post-Op Q Predicted"),
        "EQ VAS": ("Post-Op Q EQ VAS", f"{label} {vas} Q Predicted"),
    }
    post, predicted = columns[measure]
    group = frame[frame["Revision Flag"] == flag]
    residual = _num(group[post]) - _num(group[predicted])
    modelled = residual.notna()
    r = residual[modelled]
    england_sd = r.std(ddof=1)
    stats = r.groupby(group.loc[modelled, "Provider Code"]).agg(["mean", "size"])
    stats["z"] = (stats["mean"] - r.mean()) / (england_sd / np.sqrt(stats["size"]))
    return stats.reindex(sorted(set(frame["Provider Code"])), fill_value=0)


def _status(z: float, n: int) -> str:
    if n == 0:
        return "No procedures"
    if n < 30:
        return "Insufficient records"
    for limit, level in ((Z998, "99.8%"), (Z95, "95%")):
        if abs(z) > limit:
            return f"{'Positive' if z > 0 else 'Negative'} outlier ({level})"
    return "Not an outlier"


def test_planted_providers_land_where_intended_with_margin(region):
    for year in YEARS:
        for label in PROCEDURES:
            measure = PROCEDURES[label][0]
            stats = _z_scores(_records(region, label, year), label, measure, "0")
            for p in region["truth"]["providers"]:
                z, n = stats.loc[p["code"], "z"], stats.loc[p["code"], "size"]
                planted = p["planted"]
                if planted and planted["procedure_group"] == f"{label} Primary":
                    if planted["target_z"] is None:
                        assert n < 30 and abs(z) > Z998, p["role"]
                    else:
                        assert n >= 30 and z == pytest.approx(planted["target_z"], abs=1e-3)
                elif n >= 30:
                    assert abs(z) < Z95 - 0.3, (p["code"], year, label)
                if n >= 30:
                    assert min(abs(abs(z) - Z95), abs(abs(z) - Z998)) > 0.3


def test_truth_statuses_are_what_the_method_gives_on_the_written_files(region):
    truth = region["truth"]
    seen = set()
    for year in YEARS:
        for label in PROCEDURES:
            frame = _records(region, label, year)
            for flag, kind in (("0", "Primary"), ("1", "Revision")):
                for measure in (PROCEDURES[label][0], "EQ-5D Index", "EQ VAS"):
                    stats = _z_scores(frame, label, measure, flag)
                    for p in truth["providers"]:
                        row = stats.loc[p["code"]]
                        expected = p["expected_status"][year][f"{label} {kind}"][measure]
                        assert expected == _status(row["z"], int(row["size"]))
                        seen.add(expected)
    assert seen - {"No procedures"} == {
        "Not an outlier", "Insufficient records", "Negative outlier (95%)",
        "Negative outlier (99.8%)", "Positive outlier (99.8%)",
    }  # fmt: skip


def test_partlink_suppresses_the_provider_with_one_to_five_hip_procedures(region):
    truth = {p["code"]: p for p in region["truth"]["providers"]}
    for year in YEARS:
        frame = _partlink(region, year)
        assert tuple(frame.iloc[0, :2]) == ("England", "ENGLAND")
        providers = frame.iloc[1:].set_index("Organisation Code")
        assert list(providers["Organisation Name"]) == sorted(providers["Organisation Name"])
        starred = providers.eq("*").any(axis=1)
        assert list(providers.index[starred]) == [
            c for c, p in truth.items() if p["role"] == "hip_hes_suppressed"
        ]
        row = providers.loc[starred].iloc[0]
        hip = [c for c in providers.columns if "Hip Replacement - " in c]
        assert len(hip) == 27 and (row[hip] == "*").all()
        assert not row.drop(hip).eq("*").any()
        knee_hes = "Knee Replacement - Total HES Procedures"
        assert int(frame.iloc[0][knee_hes]) == providers[knee_hes].astype(int).sum()
        rates = providers.filter(like="rate").stack()
        assert rates[rates != "*"].str.fullmatch(r"\d+(\.\d{1,7})?").all()
        hip_rows = _records(region, "Hip Replacement", year)
        assert 1 <= (hip_rows["Provider Code"] == row.name).sum() <= 5


def test_truth_stays_outside_the_landing_folder(region, tmp_path):
    landing = region["landing"]
    assert not Path(region["summary"]["truth"]).resolve().is_relative_to(landing.resolve())
    assert not list(landing.rglob("*.json"))
    with pytest.raises(ValueError, match="landing"):
        write_synthetic_region(tmp_path / "l", tmp_path / "l" / "truth.json")
    assert math.isclose(region["truth"]["method"]["z_99_8"], Z998)
