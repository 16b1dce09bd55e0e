"""Runs load the dbt manifest while other runs may be parsing it again."""

from __future__ import annotations

import json
import os

from dagster_project.transform.project import prepare_dbt_project


def test_a_reader_holding_the_manifest_still_reads_it_whole_after_a_new_parse():
    path = prepare_dbt_project()
    with path.open(encoding="utf-8") as held:
        before = os.fstat(held.fileno()).st_ino
        assert prepare_dbt_project() == path
        manifest = json.load(held)
    assert os.stat(path).st_ino != before, "the manifest was rewritten in place"
    assert manifest["metadata"]["dbt_version"]
    assert json.loads(path.read_text(encoding="utf-8"))["nodes"]
