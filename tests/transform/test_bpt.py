"""Best practice tariffs end to end: hand-made raw tables, built by dbt into a real DuckDB.

Every figure below is worked by hand in the comments, not by the pipeline. Top-ups and
prices are the seed's (primary hip and knee: base GBP 5,000 and top-up GBP 550;
hip fracture: GBP 1,335 from 2013-14, GBP 445 in 2010-11).
"""

from __future__ import annotations

import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.feeds.catalogue import TABLES
from dagster_project.home import resolve_home
from dagster_project.transform.project import DBT_DIR, SEEDS_DIR, dbt_executable, dbt_vars
from dagster_project.validation.casting import empty
from dagster_project.validation.run import ensure_empty_tables

pytestmark = pytest.mark.slow

SELECT = ["+bpt_criteria", "+bpt_adjustments", "+bpt_regional_summary"]

# ODS: code, name, region.
ORGANISATIONS = [
    ("RA1", "ALPHA HOSPITALS NHS TRUST", "Y60"),
    ("RA2", "BETA HOSPITALS NHS TRUST", "Y60"),
    ("RA3", "GAMMA HOSPITALS NHS TRUST", "Y61"),
    ("RB1", "DELTA HOSPITALS NHS TRUST", "Y61"),
    ("RC1", "EPSILON HOSPITALS NHS TRUST", "Y62"),
]

# PartLink: year, provider, procedure, HES procedures (None = '*'), pre-op questionnaires.
PARTLINK = [
    # RA1: 500 / 1,000 = 0.5 exactly, which meets "at least 50%".
    ("2024-25", "RA1", "Primary Hip Replacement", 1000, 500),
    ("2024-25", "RA1", "Primary Knee Replacement", 200, 150),
    # RA2: 499 / 1,000 = 0.499, just under.
    ("2024-25", "RA2", "Primary Hip Replacement", 1000, 499),
    # RA3: suppressed by PartLink (1 to 5 procedures).
    ("2024-25", "RA3", "Primary Hip Replacement", None, None),
    # RB1: the same figures either side of the cemented rule (from 2019-20).
    ("2018-19", "RB1", "Primary Hip Replacement", 100, 60),
    ("2019-20", "RB1", "Primary Hip Replacement", 100, 60),
    # Before the hip and knee tariff began (2014-15): not assessed, and no error.
    ("2013-14", "RB1", "Primary Hip Replacement", 100, 60),
]

# NJR: year, provider, compliance, consent not recorded, cemented or hybrid over 70.
NJR = [
    ("2024-25", "RA1", 0.85, 0.1499, 0.80),  # every threshold met, compliance exactly on it
    ("2024-25", "RA2", 0.8499, 0.15, 0.7999),  # each just the wrong side
    ("2024-25", "RA3", 0.95, 0.05, 0.95),
    ("2018-19", "RB1", 0.90, 0.05, 0.50),
    ("2019-20", "RB1", 0.90, 0.05, 0.50),
]

Y = "Y"
# Hip fracture: spell, provider, arrival, surgery, orthogeriatric assessment, joint care,
# geriatrician rehabilitation, falls, bone health, AMTS pre-op, AMTS post-op.
SPELLS = [
    # RA1, 2024-25: 8 spells, 3 meeting every criterion (H1, H3, H5).
    ("H1", "RA1", "2024-06-01 08:00", "2024-06-02 20:00", "2024-06-01 12:00", Y, Y, Y, Y, Y, Y),
    ("H2", "RA1", "2024-06-01 08:00", "2024-06-02 20:01", "2024-06-01 12:00", Y, Y, Y, Y, Y, Y),
    # Across the October change: 35 hours on the clock, 36 hours 0 minutes elapsed.
    ("H3", "RA1", "2024-10-26 20:00", "2024-10-28 07:00", "2024-10-27 09:00", Y, Y, Y, Y, Y, Y),
    ("H4", "RA1", "2024-10-26 20:00", "2024-10-28 07:01", "2024-10-27 09:00", Y, Y, Y, Y, Y, Y),
    # Across the March change: 37 hours on the clock, 36 hours 0 minutes elapsed.
    ("H5", "RA1", "2025-03-29 20:00", "2025-03-31 09:00", "2025-03-30 09:00", Y, Y, Y, Y, Y, Y),
    ("H6", "RA1", "2024-07-01 10:00", "2024-07-02 09:00", "2024-07-01 15:00", Y, Y, "N", Y, Y, Y),
    ("H7", "RA1", "2024-08-01 10:00", "2024-08-01 20:00", "2024-08-01 15:00", Y, Y, Y, Y, Y, None),
    # Orthogeriatric assessment 72 hours 1 minute after arrival.
    ("H8", "RA1", "2024-09-01 10:00", "2024-09-02 10:00", "2024-09-04 10:01", Y, Y, Y, Y, Y, Y),
    # RA2, 2024-25: both spells meet every criterion.
    ("K1", "RA2", "2024-05-01 10:00", "2024-05-02 10:00", "2024-05-01 11:00", Y, Y, Y, Y, Y, Y),
    ("K2", "RA2", "2024-05-03 10:00", "2024-05-04 10:00", "2024-05-03 11:00", Y, Y, Y, Y, Y, Y),
    # RC1: no Abbreviated Mental Tests. 2010-11's rules do not ask for them; 2013-14's do.
    ("C1", "RC1", "2010-06-01 10:00", "2010-06-02 10:00", "2010-06-01 11:00", Y, Y, Y, Y, "N", "N"),
    ("C2", "RC1", "2013-06-01 10:00", "2013-06-02 10:00", "2013-06-01 11:00", Y, Y, Y, Y, "N", "N"),
]
SPELL_COLUMNS = [
    "spell_id", "organisation_code", "arrival", "surgery", "orthogeriatric_assessment",
    "joint_care", "geriatrician_rehabilitation", "falls_assessment", "bone_health_assessment",
    "amts_pre_op", "amts_post_op",
]  # fmt: skip


def _write(home, table: str, records: list[dict]) -> None:
    schema = TABLES[table].schema
    frame = pd.DataFrame(records)
    frame["source_file"] = f"{table}.csv"
    frame["row_number"] = range(2, len(frame) + 2)
    typed = pd.concat([empty(schema), frame], ignore_index=True)[list(schema)]
    typed = typed.astype(schema)
    folder = home.raw / table
    folder.mkdir(parents=True, exist_ok=True)
    typed.to_parquet(folder / f"{table}.parquet", index=False)


def _make_home(root: Path, spells: list[tuple]):
    home = resolve_home(root).ensure()
    ensure_empty_tables(home, list(TABLES))
    _write(
        home,
        "organisations",
        [
            {"organisation_code": c, "organisation_name": n, "national_grouping": r}
            for c, n, r in ORGANISATIONS
        ],
    )
    _write(
        home,
        "proms_participation",
        [
            {
                "financial_year": year,
                "provider_code": code,
                "provider_name": code,
                "procedure": procedure,
                "hes_procedures": hes,
                "pre_op_questionnaires": pre_op,
                "participation_rate": None if hes is None else pre_op / hes,
                "hes_procedures_suppressed": hes is None,
            }
            for year, code, procedure, hes, pre_op in PARTLINK
        ],
    )
    _write(
        home,
        "njr_compliance",
        [
            {
                "financial_year": year,
                "organisation_code": code,
                "compliance": compliance,
                "consent_not_recorded": consent,
                "cemented_over_70": cemented,
            }
            for year, code, compliance, consent, cemented in NJR
        ],
    )
    _write(home, "hip_fracture_spells", [dict(zip(SPELL_COLUMNS, s, strict=True)) for s in spells])
    return home


def _dbt_build(home, scratch: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            dbt_executable(),
            "build",
            "--select",
            *SELECT,
            "--exclude-resource-type",
            "unit_test",
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
            *dbt_vars(home),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("bpt_home")
    home = _make_home(root / "home", SPELLS)
    completed = _dbt_build(home, root)
    assert completed.returncode == 0, completed.stdout[-4000:]
    con = duckdb.connect(str(home.warehouse_db), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _criteria(con, year: str, provider: str, bpt: str) -> dict[str, tuple]:
    rows = con.execute(
        "select criterion_code, threshold, observed, met, reason from published.bpt_criteria"
        " where financial_year = ? and provider_code = ? and bpt_code = ?",
        [year, provider, bpt],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _adjustment(con, year: str, provider: str, bpt: str) -> tuple:
    return con.execute(
        "select region_code, eligible_spells, compliant_spells, base_income, bpt_income,"
        " adjustment, forgone from published.bpt_adjustments"
        " where financial_year = ? and provider_code = ? and bpt_code = ?",
        [year, provider, bpt],
    ).fetchone()


def test_primary_hip_exactly_on_every_threshold_earns_the_tariff(published):
    c = _criteria(published, "2024-25", "RA1", "primary_hip")
    assert set(c) == {
        "proms_participation",
        "proms_not_negative_outlier",
        "njr_compliance",
        "njr_consent_not_recorded",
        "cemented_over_70",
    }
    assert all(met for _, _, met, _ in c.values()), c
    assert c["proms_participation"][:2] == (0.5, 0.5)
    assert c["proms_participation"][3] == (
        "PROMs participation: 500 pre-operative questionnaires for 1,000 eligible procedures"
        " in 2024-25 (50.0%); at least 50.0% needed"
    )
    assert c["njr_compliance"][3] == "NJR compliance: 85.0% in 2024-25; at least 85.0% needed"
    # 1,000 spells x GBP 5,000 base; all paid the GBP 550 top-up.
    assert _adjustment(published, "2024-25", "RA1", "primary_hip") == (
        "Y60", 1000, 1000, Decimal("5000000.00"), Decimal("5550000.00"),
        Decimal("550000.00"), Decimal("0.00"),
    )  # fmt: skip


def test_primary_hip_just_under_every_threshold_forgoes_the_tariff(published):
    c = _criteria(published, "2024-25", "RA2", "primary_hip")
    met = {code: row[2] for code, row in c.items()}
    assert met == {
        "proms_participation": False,
        "proms_not_negative_outlier": True,
        "njr_compliance": False,
        "njr_consent_not_recorded": False,
        "cemented_over_70": False,
    }
    assert c["proms_participation"][3] == (
        "PROMs participation: 499 pre-operative questionnaires for 1,000 eligible procedures"
        " in 2024-25 (49.9%); at least 50.0% needed"
    )
    assert c["njr_compliance"][3] == "NJR compliance: 84.99% in 2024-25; at least 85.0% needed"
    assert c["njr_consent_not_recorded"][3] == (
        "NJR consent not recorded: 15.0% in 2024-25; below 15.0% needed"
    )
    assert c["cemented_over_70"][3] == (
        "Cemented or hybrid prostheses in patients over 70: 79.99% in 2024-25;"
        " at least 80.0% needed"
    )
    assert c["proms_not_negative_outlier"][3] == (
        "Oxford Hip Score health gain not a negative outlier: no PROMs records in 2024-25"
    )
    assert _adjustment(published, "2024-25", "RA2", "primary_hip") == (
        "Y60", 1000, 0, Decimal("5000000.00"), Decimal("5000000.00"),
        Decimal("0.00"), Decimal("550000.00"),
    )  # fmt: skip


def test_primary_knee_has_no_cemented_criterion(published):
    c = _criteria(published, "2024-25", "RA1", "primary_knee")
    assert "cemented_over_70" not in c and len(c) == 4
    assert _adjustment(published, "2024-25", "RA1", "primary_knee")[5] == Decimal("110000.00")


def test_suppressed_participation_cannot_be_assessed(published):
    c = _criteria(published, "2024-25", "RA3", "primary_hip")
    for code in ("proms_participation", "proms_not_negative_outlier"):
        threshold, observed, met, reason = c[code]
        assert met is False and observed is None
        assert "participation not published for 2024-25" in reason, reason
    assert c["njr_compliance"][2] is True
    # Spells and pounds unknown: PartLink suppresses the count.
    assert _adjustment(published, "2024-25", "RA3", "primary_hip") == (
        "Y61", None, None, None, None, None, None,
    )  # fmt: skip


def test_cemented_rule_applies_from_2019_20(published):
    before = _criteria(published, "2018-19", "RB1", "primary_hip")
    after = _criteria(published, "2019-20", "RB1", "primary_hip")
    assert "cemented_over_70" not in before and all(r[2] for r in before.values())
    assert after["cemented_over_70"][:3] == (0.8, 0.5, False)
    assert _adjustment(published, "2018-19", "RB1", "primary_hip")[5:] == (
        Decimal("55000.00"), Decimal("0.00"),
    )  # fmt: skip
    assert _adjustment(published, "2019-20", "RB1", "primary_hip")[5:] == (
        Decimal("0.00"), Decimal("55000.00"),
    )  # fmt: skip


def test_activity_before_a_tariff_began_is_not_assessed(published):
    assert _criteria(published, "2013-14", "RB1", "primary_hip") == {}
    assert _adjustment(published, "2013-14", "RB1", "primary_hip") is None


def test_hip_fracture_waits_are_elapsed_hours_across_clock_changes(published):
    spells = dict(
        published.execute(
            "select spell_id, hours_to_surgery from marts.fct_bpt_hip_fracture_spells"
        ).fetchall()
    )
    assert spells["H1"] == pytest.approx(36.0)
    assert spells["H2"] == pytest.approx(36 + 1 / 60)
    assert spells["H3"] == pytest.approx(36.0)  # 35 hours on the clock in October
    assert spells["H4"] == pytest.approx(36 + 1 / 60)
    assert spells["H5"] == pytest.approx(36.0)  # 37 hours on the clock in March
    compliant = published.execute(
        "select spell_id from marts.fct_bpt_hip_fracture_spells where is_compliant"
        " order by spell_id"
    ).fetchall()
    assert [s for (s,) in compliant] == ["C1", "H1", "H3", "H5", "K1", "K2"]


def test_hip_fracture_reasons_count_the_spells_that_failed(published):
    c = _criteria(published, "2024-25", "RA1", "hip_fracture")
    assert len(c) == 8
    assert c["surgery_within_36h"][:3] == (None, 0.75, False)
    assert c["surgery_within_36h"][3] == (
        "Surgery within 36 hours: 75.0% of 8 spells; 2 spells waited longer"
    )
    assert c["orthogeriatric_within_72h"][3] == (
        "Orthogeriatric assessment within 72 hours: 87.5% of 8 spells; 1 spell waited longer"
    )
    assert c["falls_assessment"][3] == (
        "Falls assessment: 87.5% of 8 spells; 1 spell without a falls assessment"
    )
    assert c["amts_post_op"][3] == (
        "Abbreviated Mental Test after surgery: 87.5% of 8 spells; 1 spell not recorded"
    )
    assert c["joint_care"][2:] == (
        True,
        "Admitted under joint orthopaedic and geriatric care: 100.0% of 8 spells",
    )
    # 3 of 8 spells compliant: 3 x GBP 1,335 earned, 5 x GBP 1,335 forgone.
    assert _adjustment(published, "2024-25", "RA1", "hip_fracture") == (
        "Y60", 8, 3, None, None, Decimal("4005.00"), Decimal("6675.00"),
    )  # fmt: skip


def test_hip_fracture_amts_only_where_the_years_rules_include_it(published):
    assert "amts_pre_op" not in _criteria(published, "2010-11", "RC1", "hip_fracture")
    later = _criteria(published, "2013-14", "RC1", "hip_fracture")
    assert later["amts_pre_op"][2] is False
    assert _adjustment(published, "2010-11", "RC1", "hip_fracture")[5:] == (
        Decimal("445.00"), Decimal("0.00"),
    )  # fmt: skip
    assert _adjustment(published, "2013-14", "RC1", "hip_fracture")[5:] == (
        Decimal("0.00"), Decimal("1335.00"),
    )  # fmt: skip


def test_spell_top_ups_add_up_to_each_providers_adjustment(published):
    mismatches = published.execute(
        """
        select a.financial_year, a.provider_code, a.adjustment, s.earned, a.forgone, s.forgone
        from published.bpt_adjustments as a
        join (
            select financial_year, provider_code, sum(top_up_earned) as earned,
                sum(top_up_forgone) as forgone, count(*) as spells
            from marts.fct_bpt_hip_fracture_spells group by all
        ) as s using (financial_year, provider_code)
        where a.bpt_code = 'hip_fracture'
            and (a.adjustment <> s.earned or a.forgone <> s.forgone
                 or a.eligible_spells <> s.spells)
        """
    ).fetchall()
    assert mismatches == []
    assert published.execute(
        "select count(*) from published.bpt_adjustments where bpt_code = 'hip_fracture'"
    ).fetchone() == (4,)


def test_regional_summary_is_the_sum_of_its_providers(published):
    summary = published.execute(
        "select * exclude (financial_year, bpt_code) from published.bpt_regional_summary"
        " where financial_year = '2024-25' and bpt_code = 'primary_hip' order by region_code"
    ).fetchall()
    assert summary == [
        ("ENG", 3, 1, 2000, Decimal("550000.00"), Decimal("550000.00")),
        ("Y60", 2, 1, 2000, Decimal("550000.00"), Decimal("550000.00")),
        ("Y61", 1, 0, None, None, None),
    ]
    differences = published.execute(
        """
        with providers as (
            select financial_year, region_code, bpt_code, count(*) as providers,
                sum(eligible_spells) as eligible_spells, sum(adjustment) as adjustment,
                sum(forgone) as forgone
            from published.bpt_adjustments group by all
        )
        select * from published.bpt_regional_summary as r
        full join providers as p using (financial_year, region_code, bpt_code)
        where r.region_code <> 'ENG' and (
            r.providers is distinct from p.providers
            or r.eligible_spells is distinct from p.eligible_spells
            or r.adjustment is distinct from p.adjustment
            or r.forgone is distinct from p.forgone)
        """
    ).fetchall()
    assert differences == []
    england = published.execute(
        """
        select e.financial_year, e.bpt_code from published.bpt_regional_summary as e
        join (
            select financial_year, bpt_code, sum(providers) as providers,
                sum(adjustment) as adjustment, sum(forgone) as forgone
            from published.bpt_regional_summary where region_code <> 'ENG' group by all
        ) as r using (financial_year, bpt_code)
        where e.region_code = 'ENG' and (e.providers <> r.providers
            or e.adjustment is distinct from r.adjustment or e.forgone is distinct from r.forgone)
        """
    ).fetchall()
    assert england == []


def test_a_year_without_a_tariff_stops_the_build_naming_it(tmp_path):
    tariffs = pd.read_csv(SEEDS_DIR / "bpt_tariffs.csv", dtype=str)
    start = int(tariffs[tariffs.bpt_code == "hip_fracture"].financial_year.max()[:4]) + 1
    missing = f"{start}-{(start + 1) % 100:02d}"  # the year after the seed's last
    arrival, surgery = f"{start}-06-01 10:00", f"{start}-06-02 10:00"
    spells = [*SPELLS, ("X1", "RA1", arrival, surgery, None, *[Y] * 6)]
    home = _make_home(tmp_path / "home", spells)
    completed = _dbt_build(home, tmp_path)
    assert completed.returncode != 0
    assert f"No best practice tariff for hip_fracture in {missing}" in completed.stdout
