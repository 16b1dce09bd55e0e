"""Financial years as partitions: added when the publication first holds a year, and a year's
Quality Accounts re-rendered alone, as a data engineer does from the UI or `qa run --year`."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.partitions import FINANCIAL_YEARS, is_financial_year
from dagster_project.publish.document.contents import PAGE_NAME

pytestmark = pytest.mark.slow

SITE = dg.AssetKey(["site", "quality_accounts"])


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2024-25", True),
        ("1999-00", True),
        ("2024-26", False),
        ("2024/25", False),
        ("24-25", False),
    ],
)
def test_financial_years_are_written_like_2024_25(text, valid):
    assert is_financial_year(text) is valid


def test_the_publication_adds_its_years_as_partitions(synthetic_run):
    with dg.DagsterInstance.from_config(str(synthetic_run.home.dagster)) as instance:
        known = instance.get_dynamic_partitions(FINANCIAL_YEARS.name)
    assert sorted(known) == sorted(synthetic_run.truth["years"])


def test_one_year_renders_alone_and_is_recorded_as_its_partition(synthetic_run):
    from dagster_project.publish.assets import quality_account_site
    from dagster_project.resources import HomeResource

    home = synthetic_run.home
    first, *others = sorted(synthetic_run.truth["years"])
    assert others, "the synthetic region has more than one year"
    pages = {p: p.stat().st_mtime_ns for p in home.site.glob(f"*/*/{PAGE_NAME}")}
    ours = {p for p in pages if p.parent.name == first}
    assert ours and len(ours) < len(pages)

    with dg.DagsterInstance.from_config(str(home.dagster)) as instance:
        result = dg.materialize(
            [quality_account_site],
            partition_key=first,
            instance=instance,
            resources={"home": HomeResource(root=str(home.root))},
        )
        assert result.success
        done = instance.get_materialized_partitions(SITE)
    rewritten = {p for p, stamp in pages.items() if p.stat().st_mtime_ns != stamp}
    # The year's documents, and no other year's.
    assert {p for p in rewritten if p.parent.name in others} == set()
    assert ours <= rewritten
    assert first in done and not set(others) & done


def test_the_documents_job_runs_for_every_year_and_for_one(small_region):
    """Pages then PDFs through Dagster: without a year (as a whole-pipeline run) every page
    is printed; with one (`qa run --year`), that year's pages re-render and no PDF needs
    printing again, since no page changed."""
    from dagster_project.publish.document.contents import PDF_NAME
    from dagster_project.runner import run_pipeline

    outcome = run_pipeline(small_region, job_name="quality_accounts")
    assert outcome.success, outcome.failures
    pages = sorted(small_region.site.glob(f"*/*/{PAGE_NAME}"))
    assert pages and all((p.parent / PDF_NAME).is_file() for p in pages)
    printed = {p: (p.parent / PDF_NAME).stat().st_mtime_ns for p in pages}

    outcome = run_pipeline(small_region, job_name="quality_accounts", year="2024-25")
    assert outcome.success, outcome.failures
    assert {p: (p.parent / PDF_NAME).stat().st_mtime_ns for p in pages} == printed
    with dg.DagsterInstance.from_config(str(small_region.dagster)) as instance:
        assert instance.get_materialized_partitions(SITE) == {"2024-25"}
