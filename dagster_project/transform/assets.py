"""dbt models as Dagster assets; dbt tests become asset checks."""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from dagster_project.transform.project import DBT_PROJECT, ensure_manifest


class Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


TRANSLATOR = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def published_model_keys() -> list[dg.AssetKey]:
    """Every model dbt builds into the `published` schema: what the publication copies."""
    manifest = json.loads(ensure_manifest().read_text())
    return sorted(
        TRANSLATOR.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "published"
    )


@dbt_assets(manifest=ensure_manifest(), project=DBT_PROJECT, dagster_dbt_translator=TRANSLATOR)
def warehouse_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Seeds, staging, intermediate, marts and published models in the private warehouse."""
    # Unit tests check the SQL on hand-worked inputs; they run in the test suite, not here.
    yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()
