"""Every feed the pipeline reads, each declared once (see spec.py for what a declaration holds).

The order of `FEEDS` is the order of the Dagster assets and of the dbt sources.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster_project.feeds.spec import Feed, Recognised, Table
from dagster_project.ingest import (
    hcai,
    kh03,
    layouts,
    organisations,
    proms,
    provider_returns,
    shmi,
    surveys,
    tabular,
)
from dagster_project.ingest.landing import LandingCsv
from dagster_project.validation import derived

_S, _I16, _I, _F = "string", "Int16", "Int64", "Float64"


def _typed(columns: list[str], default: str = _S, **types: str) -> dict[str, str]:
    return {c: types.get(c, default) for c in columns}


# --------------------------------------------------------------------------- PROMs

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

PROMS_RECORDS = Table(
    name=proms.RECORDS,
    description="NHS Digital PROMs record-level hip and knee files, one row per linked pre/post-op "
    "episode.",
    columns={
        "financial_year": _S,
        **{
            c: _S if c in _RECORD_TEXT else _F if c in _RECORD_FLOAT else _I16
            for c in proms.RECORD_COLUMNS
        },
    },
    suites={"hip_records": "proms_hip_records", "knee_records": "proms_knee_records"},
    code_column="provider_code",
    supersede_by=("file_kind", "financial_year"),
    derive=derived.add_proms_record_checks,
)

PROMS_PARTICIPATION = Table(
    name=proms.PARTICIPATION,
    description="NHS Digital PROMs PartLink, one row per organisation and procedure (`*` read as "
    "NULL).",
    columns={
        "financial_year": _S,
        **{
            c: _S
            if c in {"provider_code", "provider_name", "procedure"}
            else _F
            if c.endswith("_rate")
            else _I
            for c in proms.PARTICIPATION_COLUMNS
        },
        "hes_procedures_suppressed": "boolean",
    },
    suites={"partlink": "proms_partlink"},
    code_column="provider_code",
    supersede_by=("financial_year",),
    derive=derived.add_participation_checks,
)


def _recognise_proms(csv: LandingCsv) -> Recognised | None:
    return proms.classify(csv.header())


# --------------------------------------------------------------------------- reference

ORGANISATIONS = Table(
    name=organisations.ORGANISATIONS,
    description="NHS Organisation Data Service extracts (etr.csv shape).",
    columns=_typed(organisations.ODS_COLUMNS),
    suites={"ods_extract": "organisations"},
    code_column="organisation_code",
    # A later register replaces an earlier one's row for each code it lists; a trust it no
    # longer lists (dissolved in a merger years before) keeps its row from the earlier one,
    # so rows of the years it was open still find it in the register.
    supersede_by=("organisation_code",),
)


def _recognise_ods(csv: LandingCsv) -> Recognised | None:
    if organisations.looks_like_ods(csv):
        return Recognised("ods_extract", ORGANISATIONS.name)
    return None


KH03_BEDS = Table(
    name="kh03_beds",
    description="NHS England KH03 average daily beds per trust and quarter.",
    columns=_typed(kh03.KH03_COLUMNS, **dict.fromkeys(kh03.BED_COLUMNS, _F)),
    suites={kh03.FILE_KIND: "kh03"},
    code_column="organisation_code",
    supersede_by=("period_start",),
)


def _recognise_kh03(csv: LandingCsv) -> Recognised | None:
    return Recognised(kh03.FILE_KIND, KH03_BEDS.name) if csv.is_workbook else None


# --------------------------------------------------------------------------- mortality, infection

SHMI = Table(
    name=shmi.SHMI,
    description="NHS Digital SHMI trust-level files, one row per trust and publication (named "
    "by its month until 2019, by the twelve months it covers since).",
    columns={
        "publication": _S,
        "period_end": _S,
        **_typed(
            shmi.SHMI_COLUMNS,
            spells=_I,
            observed=_I,
            expected=_F,
            published_shmi=_F,
            published_poisson_lower=_F,
            published_poisson_upper=_F,
            published_poisson_banding=_I16,
            published_lower_limit=_F,
            published_upper_limit=_F,
            published_banding=_I16,
        ),
    },
    suites={"shmi_trust": "shmi"},
    code_column="provider_code",
    supersede_by=("publication", "period_end"),
    derive=derived.add_shmi_checks,
)

SHMI_CONTEXTUAL = Table(
    name=layouts.SHMI_PALLIATIVE.table,
    description="NHS Digital's SHMI contextual indicators read: the percentage of a trust's "
    "deaths (or spells) with palliative care coding, per publication.",
    columns={
        "provider_code": _S,
        "provider_name": _S,
        "measure": _S,
        "numerator": _I,
        "denominator": _I,
        "value": _F,
        "publication": _S,
        "period_end": _S,
    },
    suites={layouts.SHMI_PALLIATIVE.kind: "shmi_palliative"},
    code_column="provider_code",
    supersede_by=("measure", "publication", "period_end"),
    derive=derived.add_palliative_checks,
)


def _recognise_shmi(csv: LandingCsv) -> Recognised | None:
    """The trust-level file and the palliative care coding rates; the rest of NHS Digital's
    zip (site level, other contextual indicators) is recognised and skipped with a note."""
    header = csv.header()
    if shmi.is_shmi(header):
        return Recognised("shmi_trust", SHMI.name)
    if shmi.is_site_level(header):
        return Recognised("shmi_site", None, "site-level SHMI: not used (the trust level is)")
    if "palliative" in csv.csv_name.lower() and tabular.find_header(csv, layouts.SHMI_PALLIATIVE):
        return Recognised(layouts.SHMI_PALLIATIVE.kind, SHMI_CONTEXTUAL.name)
    if "shmi" in csv.source.lower() and shmi.is_contextual(header):
        return Recognised(
            "shmi_contextual", None, "a SHMI contextual indicator not used by the pipeline"
        )
    return None


def _parse_shmi(csv: LandingCsv, recognised: Recognised):
    if recognised.kind == layouts.SHMI_PALLIATIVE.kind:
        return tabular.batches(csv, layouts.SHMI_PALLIATIVE)
    return shmi.parse_shmi(csv)


HCAI_COUNTS = Table(
    name="hcai_counts",
    description="UKHSA mandatory surveillance counts per organism, organisation, month and "
    "metric (organisms and metrics in the project's codes, seeds hcai_organisms and "
    "hcai_metrics).",
    columns=_typed(hcai.HCAI_COLUMNS, figure=_I),
    suites={"hcai_archive": "hcai", "hcai_data_capture": "hcai"},
    code_column="organisation_code",
    derive=derived.add_hcai_checks,
    # Each publication repeats and revises the previous March: a month is taken whole from
    # the later publication, the publisher's own rule (staging), not row by row.
    supersede_by=None,
)


HCAI_OBJECTIVES = Table(
    name=layouts.HCAI_OBJECTIVES.table,
    description="NHS England's annual infection objectives (thresholds) per trust: the most "
    "cases attributed to the trust the year allows, per organism.",
    columns={
        "organisation_code": _S,
        "organisation_name": _S,
        "financial_year": _S,
        "organism": _S,
        "objective": _I,
    },
    suites={layouts.HCAI_OBJECTIVES.kind: layouts.HCAI_OBJECTIVES.kind},
    code_column="organisation_code",
    supersede_by=("organism", "financial_year", "organisation_code"),
)


def _recognise_hcai(csv: LandingCsv) -> Recognised | None:
    if csv.is_workbook:
        return None
    layout = hcai.classify_hcai(csv)
    return Recognised(f"hcai_{layout}", HCAI_COUNTS.name) if layout else None


# --------------------------------------------------------------------------- one-table feeds


def _table(layout: tabular.Layout, description: str, **spec) -> Table:
    """A one-table feed's table: its file kind is its layout's, validated by the suite of
    the same name."""
    return Table(
        name=layout.table,
        description=description,
        suites={layout.kind: layout.kind},
        code_column=layout.code_column,
        **spec,
    )


def _tabular_feed(
    name: str, layout: tabular.Layout, table: Table, description: str, monthly: bool = False
) -> Feed:
    """A feed of one-table files: recognised by its header, parsed in batches."""

    def recognise(csv: LandingCsv) -> Recognised | None:
        found = tabular.find_header(csv, layout)
        return Recognised(layout.kind, layout.table) if found else None

    return Feed(
        name=name,
        description=description,
        tables=(table,),
        recognise=recognise,
        parse=lambda csv, _: tabular.batches(csv, layout),
        monthly=monthly,
    )


def _survey_feed(
    name: str,
    layout: tabular.Layout,
    table: Table,
    description: str,
    published: Callable[[LandingCsv], bool],
    parse_published: Callable[[LandingCsv], tabular.Batches],
) -> Feed:
    """A survey feed: the publisher's own workbook (its questions found through seed
    survey_questions, `ingest/surveys.py`) or the project's extract, each recognised by its
    header and parsed into the same columns, so one suite and one staging model serve both."""

    def recognise(csv: LandingCsv) -> Recognised | None:
        if published(csv) or tabular.find_header(csv, layout):
            return Recognised(layout.kind, layout.table)
        return None

    def parse(csv: LandingCsv, _: Recognised) -> tabular.Batches:
        return parse_published(csv) if published(csv) else tabular.batches(csv, layout)

    return Feed(name=name, description=description, tables=(table,), recognise=recognise,
                parse=parse)  # fmt: skip


FFT_RESPONSES = _table(
    layouts.FFT,
    "NHS England Friends and Family Test counts per provider, setting and month (answers, "
    "total responses, total eligible).",
    columns={
        "setting": _S,
        "month": _S,
        "financial_year": _S,
        "year_label": _S,
        "period_name": _S,
        "organisation_code": _S,
        "organisation_name": _S,
        "parent_code": _S,
        **dict.fromkeys(layouts.FFT_ANSWERS, _I),
        "total_responses": _I,
        "total_eligible": _I,
    },
    supersede_by=("setting", "month"),
    derive=derived.add_fft_checks,
)
INPATIENT_SURVEY = _table(
    layouts.INPATIENT_SURVEY,
    "National Inpatient Survey responsiveness question scores per trust and survey year.",
    columns={
        "financial_year": _S,
        "organisation_code": _S,
        "survey_year": _I,
        **{f"q{i}": _F for i in range(1, 6)},
    },
    supersede_by=("survey_year",),
)
STAFF_SURVEY = _table(
    layouts.STAFF_SURVEY,
    "NHS Staff Survey: % of staff who would recommend the standard of care, per trust and "
    "survey year.",
    columns={
        "financial_year": _S,
        "organisation_code": _S,
        "survey_year": _I,
        "recommend_care": _F,
    },
    supersede_by=("survey_year",),
)
INCIDENTS = _table(
    layouts.INCIDENTS,
    "Patient safety incidents, one row per incident.",
    columns=_typed(layouts.INCIDENTS.column_names),
    supersede_by=("organisation_code", "incident_id"),
    derive=derived.add_incident_checks,
)
VTE_ASSESSMENTS = _table(
    layouts.VTE,
    "VTE risk assessment per provider and quarter.",
    columns=_typed(layouts.VTE.column_names, admitted=_I, risk_assessed=_I),
    supersede_by=("organisation_code", "quarter"),
    derive=derived.add_vte_checks,
)
READMISSIONS = _table(
    layouts.READMISSIONS,
    "NHS Digital's emergency readmissions within 30 days of discharge (Compendium I02040): "
    "the indirectly standardised percentage with its 95% confidence interval, per "
    "organisation (ENG for England), year and age band.",
    columns=_typed(
        layouts.READMISSIONS.column_names,
        indicator_value=_F,
        lower_ci=_F,
        upper_ci=_F,
        numerator=_I,
        denominator=_I,
    ),
    supersede_by=("organisation_code", "financial_year", "age_group"),
    derive=derived.add_readmission_checks,
)
INCIDENT_CLUSTERS = _table(
    layouts.INCIDENT_CLUSTERS,
    "The NRLS cluster list: the group of similar organisations each organisation's incident "
    "reporting is compared within.",
    columns=_typed(layouts.INCIDENT_CLUSTERS.column_names),
    supersede_by=("organisation_code",),
)
NJR_COMPLIANCE = _table(
    layouts.NJR,
    "National Joint Registry compliance, consent and cemented fractions per provider and year.",
    columns=_typed(
        layouts.NJR.column_names, compliance=_F, consent_not_recorded=_F, cemented_over_70=_F
    ),
    supersede_by=("organisation_code", "financial_year"),
)
HIP_FRACTURE_SPELLS = _table(
    layouts.HIP_FRACTURE,
    "Fragility hip fracture spells with best practice tariff criteria.",
    columns=_typed(layouts.HIP_FRACTURE.column_names),
    supersede_by=("organisation_code", "spell_id"),
    derive=derived.add_hip_fracture_checks,
)

PROVIDER_RETURNS = _table(
    provider_returns.PROVIDER_RETURN,
    "Providers' structured returns: the figures and statements the board gives in Part 2 of "
    "its Quality Account, one line per provider, financial year and item (seed "
    "provider_return_items).",
    columns=_typed(provider_returns.PROVIDER_RETURN.column_names),
    # A later return for a provider and year replaces the whole of the earlier one.
    supersede_by=("organisation_code", "financial_year"),
    derive=provider_returns.add_return_checks,
)

# --------------------------------------------------------------------------- the feeds

FEEDS: dict[str, Feed] = {
    feed.name: feed
    for feed in (
        Feed(
            name="proms",
            description="NHS Digital PROMs data packs: hip and knee record-level files and "
            "PartLink.",
            tables=(PROMS_RECORDS, PROMS_PARTICIPATION),
            recognise=_recognise_proms,
            parse=proms.parse,
        ),
        Feed(
            name="organisations",
            description="NHS Organisation Data Service extracts (etr.csv and the same shape).",
            tables=(ORGANISATIONS,),
            recognise=_recognise_ods,
            parse=lambda csv, _: organisations.parse_ods(csv),
        ),
        Feed(
            name="shmi",
            description="NHS Digital SHMI trust-level files, one quarterly publication each.",
            tables=(SHMI, SHMI_CONTEXTUAL),
            recognise=_recognise_shmi,
            parse=_parse_shmi,
        ),
        Feed(
            name="hcai",
            description="UKHSA mandatory surveillance monthly counts by trust, in either of "
            "UKHSA's layouts (archive tables, data-capture exports).",
            tables=(HCAI_COUNTS,),
            recognise=_recognise_hcai,
            parse=lambda csv, _: hcai.parse_hcai(csv),
            monthly=True,
        ),
        _tabular_feed(
            "hcai_objectives",
            layouts.HCAI_OBJECTIVES,
            HCAI_OBJECTIVES,
            "NHS England's infection objectives per trust and year (C. difficile thresholds).",
        ),
        Feed(
            name="kh03",
            description="NHS England KH03 beds open overnight, quarterly workbooks.",
            tables=(KH03_BEDS,),
            recognise=_recognise_kh03,
            parse=lambda csv, _: kh03.parse_kh03(csv.path, csv.data),
        ),
        _tabular_feed(
            "fft",
            layouts.FFT,
            FFT_RESPONSES,
            "NHS England Friends and Family Test organisation-level monthly files, one per "
            "setting, as CSV or XLSX.",
            monthly=True,
        ),
        _survey_feed(
            "inpatient_survey",
            layouts.INPATIENT_SURVEY,
            INPATIENT_SURVEY,
            "National Inpatient Survey: the five responsiveness question scores per trust and "
            "year (the CQC's trust-level benchmark workbook, or the project's extract).",
            surveys.is_cqc_inpatient,
            surveys.parse_cqc,
        ),
        _survey_feed(
            "staff_survey",
            layouts.STAFF_SURVEY,
            STAFF_SURVEY,
            "NHS Staff Survey: staff who would be happy with the standard of care, per trust "
            "(the detailed spreadsheets of organisational results, or the project's extract).",
            surveys.is_nss_organisational,
            surveys.parse_nss,
        ),
        _tabular_feed(
            "incidents",
            layouts.INCIDENTS,
            INCIDENTS,
            "Patient safety incidents, one row per incident (the project's extract format).",
        ),
        _tabular_feed(
            "incident_clusters",
            layouts.INCIDENT_CLUSTERS,
            INCIDENT_CLUSTERS,
            "The NRLS cluster list: which cluster of similar organisations each belongs to.",
        ),
        _tabular_feed(
            "vte",
            layouts.VTE,
            VTE_ASSESSMENTS,
            "VTE risk assessment: admitted patients and those risk-assessed, per quarter.",
        ),
        _tabular_feed(
            "readmissions",
            layouts.READMISSIONS,
            READMISSIONS,
            "NHS Digital's emergency readmissions within 30 days of discharge (indirectly "
            "standardised), per organisation, year and age band.",
        ),
        _tabular_feed(
            "njr",
            layouts.NJR,
            NJR_COMPLIANCE,
            "National Joint Registry compliance and consent, per provider and year.",
        ),
        _tabular_feed(
            "hip_fracture",
            layouts.HIP_FRACTURE,
            HIP_FRACTURE_SPELLS,
            "Fragility hip fracture spells with the best practice tariff criteria, one row each.",
        ),
        _tabular_feed(
            provider_returns.FOLDER,
            provider_returns.PROVIDER_RETURN,
            PROVIDER_RETURNS,
            "Providers' structured returns for their Quality Account: audits, research, CQUIN, "
            "CQC, data quality, learning from deaths and the year's other statements.",
        ),
    )
}

TABLES: dict[str, Table] = {table.name: table for feed in FEEDS.values() for table in feed.tables}


def feed_of(table: str) -> Feed:
    return next(feed for feed in FEEDS.values() if table in feed.table_names)
