{#- Where validation leaves a raw table: every Parquet file of it in the home folder. -#}
{% macro raw_parquet(table) -%}
    read_parquet('{{ env_var("QA_HOME") }}/raw/{{ table }}/*.parquet', union_by_name = true)
{%- endmacro %}

{% macro quarantine_parquet(table) -%}
    read_parquet('{{ env_var("QA_HOME") }}/quarantine/{{ table }}/*.parquet', union_by_name = true)
{%- endmacro %}

{#- One row per landing file, and the rows later deliveries replaced: written by validation
    beside the raw tables, read directly (like quarantine) rather than as dbt sources, since
    every feed's validation step writes them. -#}
{% macro landing_files_parquet() -%}
    read_parquet('{{ env_var("QA_HOME") }}/raw/_landing/*.parquet', union_by_name = true)
{%- endmacro %}

{% macro superseded_rows_parquet() -%}
    read_parquet('{{ env_var("QA_HOME") }}/raw/_history/*/*.parquet', union_by_name = true)
{%- endmacro %}
