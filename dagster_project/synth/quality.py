"""Write every quality feed beside PROMs for one synthetic region, and the truth behind them.

Feeds (folders under landing): `kh03`, `hcai`, `hcai_objectives`, `fft`, `inpatient_survey`,
`staff_survey`, `incidents`, `vte`, `readmissions`, `njr`, `hip_fracture`.
The truth returned goes to the truth file (never under landing): who carries
which effect, the null providers and the bounds they were kept within, the
common rates, and each indicator's value per provider as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dagster_project.synth import bpt, experience, infection, outcomes, safety
from dagster_project.synth.organisations import Provider
from dagster_project.synth.plan import (
    CELL_Z,
    FEED_ROLES,
    FEEDS,
    NULL_Z,
    PLANTED_Z,
    FeedPlan,
    make_plan,
    rounded,
)


def write_quality_feeds(
    landing_dir: Path,
    providers: list[Provider],
    years: Sequence[str],
    seed: int,
    national: bool = False,
    feeds: Sequence[str] | None = None,
) -> tuple[dict[str, dict[str, int]], dict, dict]:
    """Write the feeds asked for (all by default); return per-feed file and row counts, the
    `effects` truth and the `feeds` truth."""
    wanted = tuple(FEEDS if feeds is None else feeds)
    unknown = sorted(set(wanted) - set(FEEDS))
    if unknown:
        raise ValueError(f"unknown feeds {unknown}; known: {', '.join(FEEDS)}")
    plan = make_plan(providers, years, seed, national)
    out = _Output(Path(landing_dir), plan)
    for year in plan.years:
        for feed in FEEDS:
            if feed in wanted:
                getattr(out, feed)(year)
    summary = {
        feed: {"files": len(out.files[feed]), "rows": sum(out.files[feed].values())}
        for feed in FEEDS
        if feed in wanted
    }
    feeds_truth = {
        "written": {feed: sorted(out.files[feed]) for feed in FEEDS if feed in wanted},
        "settings": {code: list(s) for code, s in plan.settings.items()},
        "occupied_general_acute_bed_days": {
            year: dict(zip(plan.codes, plan.bed_days[year].sum(axis=1).tolist(), strict=True))
            for year in plan.years
        },
        "occupied_general_acute_beds": dict(zip(plan.codes, plan.beds.tolist(), strict=True)),
        **out.feed_notes,
    }
    return summary, _effects(plan, out), feeds_truth


class _Output:
    """Writes one feed-year at a time and keeps what the truth needs."""

    def __init__(self, landing: Path, plan: FeedPlan) -> None:
        self.landing = landing
        self.plan = plan
        self.files: dict[str, dict[str, int]] = {feed: {} for feed in FEEDS}
        self.indicators: dict[str, dict] = {}
        self.feed_notes: dict[str, dict] = {}
        self.bpt: dict[str, dict] = {}
        self.never_events: dict[str, dict[str, list[str]]] = {}

    def _path(self, feed: str, name: str) -> Path:
        return self.landing / feed / name

    def _record(self, name: str, year: str, values, england: float | None) -> None:
        entry = self.indicators.setdefault(name, {"england": {}, "providers": {}})
        entry["england"][year] = rounded(england)
        entry["providers"][year] = {
            code: rounded(v) for code, v in zip(self.plan.codes, np.asarray(values), strict=True)
        }

    # --- one method per feed, called per year --------------------------------------------

    def kh03(self, year: str) -> None:
        self.files["kh03"].update(infection.write_kh03(self.landing / "kh03", self.plan, year))

    def hcai_objectives(self, year: str) -> None:
        name = infection.objectives_file_name(year)
        path = self._path("hcai_objectives", name)
        self.files["hcai_objectives"][name] = infection.write_cdi_objectives(path, self.plan, year)

    def hcai(self, year: str) -> None:
        plan = self.plan
        for organism in infection.ORGANISMS:
            counts = infection.hcai_counts(plan, year, organism)
            name = infection.hcai_file_name(organism, year)
            path = self._path("hcai", name)
            self.files["hcai"][name] = infection.write_hcai(path, plan, year, organism, counts)
            if organism.cdi:
                rates = infection.trust_apportioned_rates(plan, year, counts)
                cases = counts[:, :, [infection.HOHA, infection.COHA]].sum()
                bed_days = plan.bed_days[year].sum()
                self._record(
                    "cdi_trust_apportioned_per_100000_bed_days", year, rates,
                    cases / bed_days * 100_000,
                )  # fmt: skip

    def fft(self, year: str) -> None:
        written, totals = experience.write_fft(self.landing / "fft", self.plan, year)
        self.files["fft"].update(written)
        workbook = [n for n in written if n.endswith(".xlsx")]
        self.feed_notes.setdefault("fft", {"xlsx_sheet": experience.FFT_XLSX_SHEET,
                                           "xlsx_files": {}})  # fmt: skip
        self.feed_notes["fft"]["xlsx_files"][year] = workbook[0]
        inpatient = totals["inpatient"]
        share = [
            inpatient[c]["positive"] / inpatient[c]["responses"]
            if c in inpatient and inpatient[c]["responses"]
            else None
            for c in self.plan.codes
        ]
        positive = sum(v["positive"] for v in inpatient.values())
        responses = sum(v["responses"] for v in inpatient.values())
        self._record("fft_inpatient_positive_share", year, share, positive / responses)

    def inpatient_survey(self, year: str) -> None:
        scores = experience.inpatient_scores(self.plan, year)
        name = experience.inpatient_survey_file_name(year)
        path = self._path("inpatient_survey", name)
        rows = experience.write_inpatient_survey(path, self.plan, year, scores)
        self.files["inpatient_survey"][name] = rows
        composite = scores.mean(axis=1)
        national = float(np.mean([q[2] for q in experience.SURVEY_QUESTIONS]))
        self._record("inpatient_survey_responsiveness", year, composite, national)

    def staff_survey(self, year: str) -> None:
        scores = experience.staff_scores(self.plan, year)
        name = experience.staff_survey_file_name(year)
        path = self._path("staff_survey", name)
        self.files["staff_survey"][name] = experience.write_staff_survey(
            path, self.plan, year, scores
        )
        self._record("staff_recommend_care", year, scores, experience.STAFF_RECOMMEND)

    def incidents(self, year: str) -> None:
        name = safety.incidents_file_name(year)
        rows, providers = safety.write_incident_year(self._path("incidents", name), self.plan, year)
        self.files["incidents"][name] = rows
        harms = np.stack([p.on_time for p in providers])  # what counts: reported in time
        bed_days = self.plan.bed_days[year].sum(axis=1)
        severe = harms[:, 3:].sum(axis=1)
        self._record(
            "incidents_per_1000_bed_days", year, harms.sum(axis=1) / bed_days * 1000,
            harms.sum() / bed_days.sum() * 1000,
        )  # fmt: skip
        self._record(
            "incidents_severe_or_death_share", year, severe / harms.sum(axis=1),
            severe.sum() / harms.sum(),
        )  # fmt: skip
        self.never_events[year] = {
            p.code: list(p.never_on_time) for p in providers if p.never_on_time
        }

    def incident_clusters(self, year: str) -> None:
        name = safety.clusters_file_name(year)
        path = self._path("incident_clusters", name)
        self.files["incident_clusters"][name] = safety.write_clusters(path, self.plan)

    def vte(self, year: str) -> None:
        admitted, assessed = safety.vte_counts(self.plan, year)
        name = safety.vte_file_name(year)
        path = self._path("vte", name)
        self.files["vte"][name] = safety.write_vte(path, self.plan, year, admitted, assessed)
        self._record(
            "vte_risk_assessed_share", year, assessed.sum(axis=1) / admitted.sum(axis=1),
            assessed.sum() / admitted.sum(),
        )  # fmt: skip

    def readmissions(self, year: str) -> None:
        discharges, readmitted = outcomes.readmission_counts(self.plan, year)
        name = outcomes.readmissions_file_name(year)
        path = self._path("readmissions", name)
        self.files["readmissions"][name] = outcomes.write_readmissions(
            path, self.plan, year, discharges, readmitted
        )
        for k, age in enumerate(outcomes.AGE_GROUPS):
            england = readmitted[:, k].sum() / discharges[:, k].sum()
            published = [
                outcomes.standardised(int(o), int(n), england)[0] / 100
                for o, n in zip(readmitted[:, k], discharges[:, k], strict=True)
            ]
            self._record(f"readmissions_30_days_standardised_{age}", year, published, england)

    def njr(self, year: str) -> None:
        values = bpt.njr_values(self.plan, year)
        name = bpt.njr_file_name(year)
        self.files["njr"][name] = bpt.write_njr(self._path("njr", name), self.plan, year, values)
        passes = bpt.njr_passes(values)
        njr = self.bpt.setdefault("njr", {"passes_all": {}})
        njr["passes_all"][year] = [c for c, ok in zip(self.plan.codes, passes.all(axis=1),
                                                       strict=True) if ok]  # fmt: skip

    def hip_fracture(self, year: str) -> None:
        spells, planted = bpt.hip_fracture_spells(self.plan, year)
        name = bpt.hip_fracture_file_name(year)
        path = self._path("hip_fracture", name)
        self.files["hip_fracture"][name] = bpt.write_hip_fracture(path, self.plan, year, spells)
        hip = self.bpt.setdefault("hip_fracture", {"providers": {}, "clock_change_spells": []})
        hip["providers"][year] = {
            code: {
                "spells": len(s.arrival),
                "surgery_within_36h": int(s.within_36h.sum()),
                "bpt_compliant": int(s.compliant.sum()),
            }
            for code, s in zip(self.plan.codes, spells, strict=True)
        }
        within = [s.within_36h.sum() / max(len(s.arrival), 1) for s in spells]
        compliant = [s.compliant.sum() / max(len(s.arrival), 1) for s in spells]
        total = sum(len(s.arrival) for s in spells)
        self._record("hip_fracture_surgery_within_36h_share", year, within,
                     sum(int(s.within_36h.sum()) for s in spells) / total)  # fmt: skip
        self._record("hip_fracture_bpt_compliant_share", year, compliant,
                     sum(int(s.compliant.sum()) for s in spells) / total)  # fmt: skip
        ids = bpt.spell_ids(year, spells)
        carrier = self.plan.codes.index(planted[0]["provider"]) if planted else None
        for case in planted:
            s = spells[carrier]
            arrival, surgery = bpt.utc_minutes(case["arrival"]), bpt.utc_minutes(case["surgery"])
            k = int(np.flatnonzero((s.arrival == arrival) & (s.surgery == surgery))[0])
            wall = case["surgery"].replace(tzinfo=None) - case["arrival"].replace(tzinfo=None)
            elapsed = (surgery - arrival) / 60
            hip["clock_change_spells"].append(
                {
                    "financial_year": year,
                    "spell_id": ids[carrier][k],
                    "provider": case["provider"],
                    "arrival": case["arrival"].strftime("%Y-%m-%d %H:%M"),
                    "surgery": case["surgery"].strftime("%Y-%m-%d %H:%M"),
                    "wall_clock_hours": wall.total_seconds() / 3600,
                    "elapsed_hours": elapsed,
                    "surgery_within_36h": elapsed <= bpt.SURGERY_HOURS,
                    "within_36h_by_wall_clock": wall.total_seconds() / 3600 <= bpt.SURGERY_HOURS,
                }
            )


_INDICATORS = {
    "cdi_trust_apportioned_per_100000_bed_days": (
        "hcai", "C. difficile hospital-onset healthcare associated (HOHA) plus community-onset "
        "healthcare associated (COHA) cases per 100,000 occupied general and acute bed days "
        "(KH03), over the financial year",
    ),
    "fft_inpatient_positive_share": (
        "fft", "Inpatient FFT answers 'very good' or 'good' over all responses (don't know "
        "included), over the financial year; null where the provider reports no inpatient FFT",
    ),
    "inpatient_survey_responsiveness": (
        "inpatient_survey", "Average of Q1 to Q5 (responsiveness to inpatients' personal needs)",
    ),
    "staff_recommend_care": ("staff_survey", "Recommend care, % agree or strongly agree"),
    "incidents_per_1000_bed_days": (
        "incidents", "Incidents (by incident date in the year) per 1,000 occupied general and "
        "acute bed days (KH03)",
    ),
    "incidents_severe_or_death_share": (
        "incidents", "Incidents with degree of harm Severe or Death over all incidents",
    ),
    "vte_risk_assessed_share": ("vte", "Risk assessed over admitted, the four quarters summed"),
    "readmissions_30_days_standardised_0-15": ("readmissions", "NHS Digital's standardised "
                                               "percentage as written, age 0-15, as a share"),
    "readmissions_30_days_standardised_16+": ("readmissions", "NHS Digital's standardised "
                                              "percentage as written, age 16+, as a share"),
    "hip_fracture_surgery_within_36h_share": (
        "hip_fracture", "Spells with surgery within 36 hours of arrival in real elapsed time "
        "(Europe/London local times converted to UTC)",
    ),
    "hip_fracture_bpt_compliant_share": (
        "hip_fracture", "Spells meeting every criterion: surgery within 36 hours, orthogeriatric "
        "assessment within 72 hours of arrival, and every Y/N column Y",
    ),
}  # fmt: skip

_PLANTED = (
    ("high_cdi", "hcai", "cdi_trust_apportioned_per_100000_bed_days", "higher",
     f"HOHA and COHA at {infection.HIGH_CDI_RATIO:g} times the common rate"),
    ("high_severe_harm", "incidents", "incidents_severe_or_death_share", "higher",
     f"severe or death {safety.HIGH_SEVERE_OR_DEATH:g} of incidents against "
     f"{safety.SEVERE_OR_DEATH:g}"),
    ("poor_experience", "fft", "fft_inpatient_positive_share", "lower",
     f"inpatient answers good or very good {sum(experience.POOR_INPATIENT_SHARES[:2]):g} "
     f"against {experience.FFT_SETTINGS['inpatient'].positive:g}"),
    ("poor_experience", "inpatient_survey", "inpatient_survey_responsiveness", "lower",
     f"every question {experience.POOR_SURVEY_SHIFT:g} points"),
    ("hip_fracture_long_waits", "hip_fracture", "hip_fracture_surgery_within_36h_share", "lower",
     f"surgery within 36 hours {bpt.LONG_WAIT_WITHIN_36H:g} of spells against "
     f"{bpt.WITHIN_36H:g}"),
)  # fmt: skip


def _effects(plan: FeedPlan, out: _Output) -> dict:
    planted = [
        {"role": role, "provider": plan.roles[role], "feed": feed, "indicator": indicator,
         "direction": direction, "planted": how}
        for role, feed, indicator, direction, how in _PLANTED
    ]  # fmt: skip
    planted.insert(
        2,
        {"role": "high_shmi", "provider": plan.high_shmi, "feed": "shmi", "indicator": "shmi",
         "direction": "higher", "planted": "see truth['shmi']"},
    )  # fmt: skip
    failing = bpt.njr_failing_criterion(plan)
    for role, criteria in (
        ("njr_fail_one", [failing]),
        ("njr_fail_several", list(bpt.NJR_CRITERIA)),
    ):
        planted.append(
            {"role": role, "provider": plan.roles[role], "feed": "njr",
             "indicator": "njr_best_practice_tariff", "direction": "fails",
             "planted": f"fails {', '.join(criteria)}", "fails": criteria}
        )  # fmt: skip
    indicators = {
        name: {"feed": _INDICATORS[name][0], "description": _INDICATORS[name][1], **values}
        for name, values in out.indicators.items()
    }
    njr = out.bpt.get("njr", {})
    njr.update(
        {
            "thresholds": {c: {"passes_if": op, "value": v} for c, (op, v) in
                           bpt.NJR_CRITERIA.items()},
            "fail_one": {"provider": plan.roles["njr_fail_one"], "fails": [failing]},
            "fail_several": {"provider": plan.roles["njr_fail_several"],
                             "fails": list(bpt.NJR_CRITERIA)},
        }
    )  # fmt: skip
    hip = out.bpt.get("hip_fracture", {})
    hip.update(
        {
            "long_waits": plan.roles["hip_fracture_long_waits"],
            "surgery_within_hours": bpt.SURGERY_HOURS,
            "orthogeriatric_assessment_within_hours": bpt.ASSESSMENT_HOURS,
            "clock_change_provider": plan.codes[bpt.clock_change_provider(plan)],
            "times": "local Europe/London wall-clock times; waits are real elapsed time",
        }
    )
    return {
        "roles": {role: plan.roles[role] for role in FEED_ROLES} | {"high_shmi": plan.high_shmi},
        "planted": planted,
        "null_providers": plan.null_providers,
        "null_bounds": {
            "z": NULL_Z,
            "cell_z": CELL_Z,
            "planted_z": PLANTED_Z,
            "how": "every provider not planted on an indicator is drawn at the common rate and "
            "re-drawn until |z| <= z for the year on the indicator's own scale (binomial or "
            "Poisson standard error, or the between-provider SD for survey scores) and "
            "|z| <= cell_z for each month or quarter it is published by; planted providers "
            "are kept within planted_z of their planted rate",
        },
        "rates": _rates(),
        "indicators": indicators,
        "bpt": {"njr": njr, "hip_fracture": hip},
        "never_events": out.never_events,
    }


def _rates() -> dict:
    return {
        "bed_days": "occupied general and acute bed days from the KH03 workbooks written "
        "(average occupied beds x days in the quarter)",
        "hcai_per_100000_bed_days": {
            o.collection: dict(
                zip(
                    ("HOHA", "COHA", "COIA", "COCA", "unknown_3_months", "no_information"),
                    o.rates,
                    strict=True,
                )
            )
            for o in infection.ORGANISMS
        },  # fmt: skip
        "high_cdi_ratio": infection.HIGH_CDI_RATIO,
        "incidents_per_1000_bed_days": safety.INCIDENTS_PER_1000_BED_DAYS,
        "incident_harm_shares": dict(zip(safety.HARMS, safety.HARM_SHARES, strict=True)),
        "severe_or_death_share": safety.SEVERE_OR_DEATH,
        "high_severe_or_death_share": safety.HIGH_SEVERE_OR_DEATH,
        "never_events_per_provider_year": safety.NEVER_EVENTS_PER_PROVIDER_YEAR,
        "fft_answer_shares": {k: list(s.shares) for k, s in experience.FFT_SETTINGS.items()},
        "fft_positive_share": {k: s.positive for k, s in experience.FFT_SETTINGS.items()},
        "poor_inpatient_fft_answer_shares": list(experience.POOR_INPATIENT_SHARES),
        "inpatient_survey": {
            "questions": {
                q: {"text": text, "england": mean} for q, text, mean in experience.SURVEY_QUESTIONS
            },
            "question_sd": experience.QUESTION_SD,
            "responsiveness_sd": experience.RESPONSIVENESS_SD,
            "poor_experience_shift": experience.POOR_SURVEY_SHIFT,
        },  # fmt: skip
        "staff_recommend_care": {"england": experience.STAFF_RECOMMEND, "sd": experience.STAFF_SD},
        "vte_risk_assessed": safety.VTE_RISK_ASSESSED,
        "readmissions_30_days": outcomes.READMISSION_RATES,
        "hip_fracture": {
            "spells_per_occupied_bed": bpt.SPELLS_PER_OCCUPIED_BED,
            "surgery_within_36h": bpt.WITHIN_36H,
            "long_waits_surgery_within_36h": bpt.LONG_WAIT_WITHIN_36H,
            "orthogeriatric_assessment_within_72h": bpt.ASSESSED_WITHIN_72H,
            "each_y_n_criterion": bpt.FLAG_YES,
        },
    }
