"""Transform: the dbt project over DuckDB, wired into Dagster."""
