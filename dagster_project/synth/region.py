"""Write a whole synthetic region: PROMs packs, an ODS extract, SHMI, the quality feeds
(KH03, HCAI, FFT, surveys, incidents, VTE, readmissions, NJR, hip fracture), the providers'
returns and narratives (`returns.py`, some left incomplete) and the truth behind them.

The truth file records what was planted and the outlier status NHS Digital's
method gives on exactly these files, so a pipeline can be checked against it.
It is written outside the landing folder: a pipeline must never ingest it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from dagster_project.synth import organisations, proms, quality, returns, shmi
from dagster_project.synth.organisations import MISTYPED_ROLE

DEFAULT_YEARS = ("2023-24", "2024-25")
DEMO_PROVIDERS = 24
NATIONAL_PROVIDERS = 250


def write_synthetic_region(
    landing_dir: Path,
    truth_path: Path,
    providers: int | None = None,
    years: Sequence[str] = DEFAULT_YEARS,
    seed: int = 1,
    records_per_provider: int | None = None,
    *,
    national: bool = False,
    feeds: Sequence[str] | None = None,
) -> dict:
    """Write `proms/`, `organisations/`, `shmi/` and the quality feeds under `landing_dir`,
    and the truth JSON.

    `providers` defaults to 24 (a demo region: 100-300 occupied beds each, about 150,000
    incident rows over two years) or, with `national`, 250 (England's spread of 200-1,500
    occupied beds, millions of incidents a year, written in chunks). `feeds` limits the
    quality feeds written (names in `plan.FEEDS`; default all); PROMs, ODS and SHMI are
    always written.

    Same arguments, same bytes. Returns the PROMs, ODS and SHMI files written (relative to
    `landing_dir`) with their data-row counts, each quality feed's file and row counts,
    and where the truth went.
    """
    landing_dir, truth_path = Path(landing_dir), Path(truth_path)
    if truth_path.resolve().is_relative_to(landing_dir.resolve()):
        raise ValueError("the truth file must not be under the landing folder")
    for year in years:
        proms.year_code(year)  # refuse a malformed label before writing anything
    if providers is None:
        providers = NATIONAL_PROVIDERS if national else DEMO_PROVIDERS
    roster = organisations.make_providers(providers, seed)
    files: dict[str, int] = {}
    etr = landing_dir / "organisations" / "etr.csv"
    files[_rel(etr, landing_dir)] = organisations.write_etr(etr, roster)

    expected: dict[str, dict] = {}
    england: dict[str, dict] = {}
    for year in years:
        batches = [
            proms.generate(p, year, roster, seed, records_per_provider) for p in proms.PROCEDURES
        ]
        for batch in batches:
            path = landing_dir / "proms" / batch.procedure.file_name(year)
            files[_rel(path, landing_dir)] = batch.write(path)
        partlink = landing_dir / "proms" / proms.partlink_file_name(year)
        files[_rel(partlink, landing_dir)] = proms.write_partlink(
            partlink, year, roster, batches, seed
        )
        expected[year], england[year] = _judge(batches, len(roster))

    shmi_truth: dict[str, dict] = {}
    for year in years:
        path = landing_dir / "shmi" / shmi.file_name(year)
        shmi_truth[year] = shmi.write_publication(path, year, roster, seed)
        files[_rel(path, landing_dir)] = len(roster)

    truth = _truth(roster, list(years), seed, expected, england)
    typo = next((p for p in roster if p.role == MISTYPED_ROLE), None)
    if typo is not None:
        truth["mistyped_code"] = {"provider": typo.code, "typed": typo.mistyped, "feed": "vte"}
    truth["shmi"] = {
        "planted_high": shmi.planted_code(roster),
        "period_end": {year: shmi.period_end(year) for year in years},
        "banding": {year: t["banding"] for year, t in shmi_truth.items()},
        "palliative_care_deaths_pct": {
            year: t["palliative_care_deaths_pct"] for year, t in shmi_truth.items()
        },
    }
    feed_summary, truth["effects"], truth["feeds"] = quality.write_quality_feeds(
        landing_dir, roster, years, seed, national=national, feeds=feeds
    )
    if feeds is None:  # providers' returns and narratives, some left incomplete
        truth["returns"] = returns.write_returns(landing_dir, roster, years, seed)
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return {
        "files": files,
        "providers": len(roster),
        "years": list(years),
        "records": sum(v for k, v in files.items() if " Provider " in k),
        "truth": str(truth_path),
        "feeds": feed_summary,
    }


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _judge(batches: list[proms.ProcedureYear], providers: int) -> tuple[dict, dict]:
    """Apply the method to the residuals as written: per provider, group and measure."""
    per_provider: dict[int, dict] = {i: {} for i in range(providers)}
    england: dict[str, dict] = {}
    for batch in batches:
        for group, flag in batch.procedure.groups().items():
            england[group] = {}
            in_group = batch.revision == flag
            for measure in batch.procedure.measures:
                residual = batch.residual[measure].copy()
                residual[~in_group] = math.nan
                result = proms.funnel_z(residual, batch.provider, providers)
                england[group][measure] = {
                    "modelled_records": int(result["n"].sum()),
                    "mean_residual": _num(result["england_mean"], 9),
                    "sd_residual": _num(result["england_sd"], 9),
                }
                for i in range(providers):
                    n = int(result["n"][i])
                    z = float(result["z"][i]) if n else math.nan
                    per_provider[i].setdefault(group, {})[measure] = {
                        "status": proms.status_for(z, n),
                        "modelled_records": n,
                        "mean_residual": _num(result["mean"][i], 9) if n else None,
                        "z": _num(z, 6),
                    }
    return per_provider, england


def _truth(
    roster: list[organisations.Provider],
    years: list[str],
    seed: int,
    expected: dict[str, dict],
    england: dict[str, dict],
) -> dict:
    providers = []
    for i, p in enumerate(roster):
        planted = None
        if where := proms.planted(p.role):
            planted = {
                "procedure_group": f"{where[0].label} Primary",
                "measure": where[0].oxford_measure,
                "target_z": where[1],
            }
        providers.append(
            {
                "code": p.code,
                "name": p.name,
                "region_code": p.region_code,
                "role": p.role,
                "planted": planted,
                "hes_suppressed_groups": (
                    ["Hip Replacement Primary", "Hip Replacement Revision", "Total Hip Replacement"]
                    if p.role == proms.SUPPRESSED_ROLE
                    else []
                ),
                "expected_status": {
                    y: {
                        g: {m: d["status"] for m, d in measures.items()}
                        for g, measures in expected[y][i].items()
                    }
                    for y in years
                },
                "expected_detail": {y: expected[y][i] for y in years},
            }
        )
    return {
        "generator": "dagster_project.synth.write_synthetic_region",
        "seed": seed,
        "years": years,
        "method": {
            "z_95": proms.Z95,
            "z_99_8": proms.Z998,
            "min_modelled_records": proms.MIN_MODELLED,
            "z": "(provider mean residual - England mean residual) / (England residual SD "
            "/ sqrt(modelled records)); residual = post-op score - predicted, as written",
            "groups": "primary and revision groups only: NHS Digital adjusts the total "
            "groups with a model that is not in the record-level file",
        },
        "england": england,
        "providers": providers,
    }


def _num(value: float, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
