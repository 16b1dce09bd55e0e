"""Dagster resources shared by every stage."""

from __future__ import annotations

import dagster as dg

from dagster_project.home import Home, resolve_home


class HomeResource(dg.ConfigurableResource):
    """The pipeline's home folder, optionally another landing folder, and how many Parquet
    publications to keep.

    Every asset reaches the home through this resource, dbt included (as the var
    `qa_home`), so a run launched with another `root` sends every stage there.
    """

    root: str
    landing: str | None = None
    # Parquet publications kept in published/parquet/ (unset: $QA_KEEP_PUBLICATIONS, else 5).
    keep_publications: int | None = None

    def home(self) -> Home:
        return resolve_home(self.root, self.landing, self.keep_publications).ensure()

    @classmethod
    def from_environment(cls) -> HomeResource:
        """The home $QA_HOME names (default ./qa_home), $QA_LANDING if set, and the
        publications to keep from $QA_KEEP_PUBLICATIONS (default 5)."""
        home = resolve_home()
        return cls(
            root=str(home.root),
            landing=str(home.landing_dir) if home.landing_dir else None,
            keep_publications=home.keep_publications,
        )
