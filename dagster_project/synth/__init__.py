"""Deterministic synthetic data in the exact layouts NHS publishers use.

Fictional providers (codes starting `Z`) with planted outliers, so that a
pipeline implementing the published methods can be checked end to end.
"""

from dagster_project.synth.region import write_synthetic_region
from dagster_project.synth.safety import write_incidents_file

__all__ = ["write_incidents_file", "write_synthetic_region"]
