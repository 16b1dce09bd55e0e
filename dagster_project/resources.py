"""Dagster resources shared by every stage."""

from __future__ import annotations

import dagster as dg

from dagster_project.home import Home, resolve_home


class HomeResource(dg.ConfigurableResource):
    """The pipeline's home folder (QA_HOME) and, optionally, another landing folder."""

    root: str
    landing: str | None = None

    def home(self) -> Home:
        return resolve_home(self.root, self.landing).ensure()
