{#- Where validation leaves a raw table: every Parquet file of it in the home folder. -#}
{% macro raw_parquet(table) -%}
    read_parquet('{{ env_var("QA_HOME") }}/raw/{{ table }}/*.parquet', union_by_name = true)
{%- endmacro %}

{% macro quarantine_parquet(table) -%}
    read_parquet('{{ env_var("QA_HOME") }}/quarantine/{{ table }}/*.parquet', union_by_name = true)
{%- endmacro %}
