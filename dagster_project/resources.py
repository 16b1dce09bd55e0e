"""Dagster resources shared by every stage."""

from __future__ import annotations

import dagster as dg

from dagster_project.home import Home, resolve_home


class HomeResource(dg.ConfigurableResource):
    """The pipeline's home folder and, optionally, another landing folder.

    Every asset reaches the home through this resource, dbt included (as the var
    `qa_home`), so a run launched with another `root` sends every stage there.
    """

    root: str
    landing: str | None = None

    def home(self) -> Home:
        return resolve_home(self.root, self.landing).ensure()

    @classmethod
    def from_environment(cls) -> HomeResource:
        """The home $QA_HOME names (default ./qa_home), and $QA_LANDING if set."""
        home = resolve_home()
        return cls(root=str(home.root), landing=str(home.landing_dir) if home.landing_dir else None)
