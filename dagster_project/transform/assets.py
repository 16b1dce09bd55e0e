"""dbt models as Dagster assets; dbt tests become asset checks.

Built by functions, not at import: reading the manifest may mean parsing the dbt
project, which importing a module must never do.
"""

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

from dagster_project.resources import HomeResource
from dagster_project.transform.project import DBT_PROJECT, dbt_vars, manifest


class Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"


TRANSLATOR = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def published_model_keys() -> list[dg.AssetKey]:
    """Every model dbt builds into the `published` schema: what the publication copies."""
    nodes = json.loads(manifest().read_text())["nodes"]
    return sorted(
        TRANSLATOR.get_asset_key(node)
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"].get("schema") == "published"
    )


def build_warehouse_models() -> dg.AssetsDefinition:
    @dbt_assets(manifest=manifest(), project=DBT_PROJECT, dagster_dbt_translator=TRANSLATOR)
    def warehouse_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, home: HomeResource
    ):
        """Seeds, staging, intermediate, marts and published models in the private warehouse."""
        # Unit tests check the SQL on hand-worked inputs; they run in the test suite, not here.
        args = ["build", "--exclude-resource-type", "unit_test", *dbt_vars(home.home())]
        yield from dbt.cli(args, context=context).stream()

    return warehouse_models
