"""Deterministic synthetic data in the exact layouts NHS publishers use.

Fictional providers (codes starting `Z`) with planted outliers, so that a
pipeline implementing the published methods can be checked end to end.
"""

from dagster_project.synth.region import write_synthetic_region

__all__ = ["write_synthetic_region"]
