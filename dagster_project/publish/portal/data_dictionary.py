"""The observatories' data dictionary: dbt's documentation site as one file in `site/docs/`.

Observatories ask what a column means and where a figure comes from. dbt
already knows (descriptions from the models' YAML, lineage, compiled SQL, and
the column types it reads back from the warehouse), and `dbt docs generate
--static` puts all of that into a single HTML file with no server and no
external requests, so it opens from disk like the rest of the site. It is
generated into a scratch folder (not dbt's own target folder, which holds the
manifest Dagster loads) and copied in once, as `index.html` (what a browser opens
for the folder), not also under dbt's name `static_index.html`. The page is meant
to be shared, so this machine's folders in it (the home folder in the sources'
locations, the dbt project's, the scratch folder's) are written as `$QA_HOME`,
`dbt` and `target`. dbt stamps each generation with its time and invocation (the run's
start, each node's creation time, a random id); those are written as fixed values, so the
same warehouse gives the same bytes, like the documents.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from dagster_dbt import DbtCliResource

from dagster_project.home import Home
from dagster_project.publish.files import write_text
from dagster_project.publish.portal.pages import DOCS_FOLDER
from dagster_project.transform.project import DBT_DIR, dbt_vars, manifest

STATIC_NAME = "static_index.html"
# What differs between two generations of the same project: clock times and a random id.
_STAMPS = (
    (re.compile(r'("(?:generated_at|invocation_started_at|run_started_at)": ?")[^"]*"'),
     r'\g<1>1970-01-01T00:00:00Z"'),
    (re.compile(r'("invocation_id": ?")[^"]*"'), r'\g<1>00000000-0000-0000-0000-000000000000"'),
    (re.compile(r'("created_at": ?)[0-9.]+'), r"\g<1>0"),
)  # fmt: skip


def unstamped(page: str) -> str:
    """The page without the time and invocation dbt stamps it with."""
    for pattern, fixed in _STAMPS:
        page = pattern.sub(fixed, page)
    return page


def build_data_dictionary(dbt: DbtCliResource, home: Home) -> Path:
    """Generate dbt's static documentation into `site/docs/`; return its index.html."""
    target = home.site / DOCS_FOLDER
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qa-dbt-docs-") as scratch:
        scratch_path = Path(scratch)
        dbt.cli(
            ["docs", "generate", "--static", *dbt_vars(home)],
            manifest=manifest(),
            target_path=scratch_path,
        ).wait()
        generated = scratch_path / STATIC_NAME
        if not generated.is_file():
            raise FileNotFoundError(f"dbt docs generate --static wrote no {STATIC_NAME}")
        page = generated.read_text(encoding="utf-8")
        for folder, shown in ((scratch_path, "target"), (home.root, "$QA_HOME"), (DBT_DIR, "dbt")):
            page = page.replace(str(folder), shown).replace(str(Path(folder).resolve()), shown)
    write_text(target / "index.html", unstamped(page))
    # Earlier versions also kept dbt's own name, an identical copy of several megabytes.
    (target / STATIC_NAME).unlink(missing_ok=True)
    return target / "index.html"
