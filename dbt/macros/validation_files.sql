{#- Files validation writes beside the raw tables, read directly rather than as dbt sources:
    each raw table's quarantine, one row per landing file, and the rows later deliveries
    replaced. The home folder comes from the pipeline as the var `qa_home`. -#}
{% macro quarantine_parquet(table) -%}
    read_parquet('{{ var("qa_home") }}/quarantine/{{ table }}/*.parquet', union_by_name = true)
{%- endmacro %}

{% macro landing_files_parquet() -%}
    read_parquet('{{ var("qa_home") }}/raw/_landing/*.parquet', union_by_name = true)
{%- endmacro %}

{% macro superseded_rows_parquet() -%}
    read_parquet('{{ var("qa_home") }}/raw/_history/*/*.parquet', union_by_name = true)
{%- endmacro %}
