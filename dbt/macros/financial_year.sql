{#- The NHS financial year (`2024-25`) a date falls in: April to March. -#}
{% macro financial_year_of(date_expr) -%}
    case when month({{ date_expr }}) >= 4
        then year({{ date_expr }}) || '-' || lpad(cast((year({{ date_expr }}) + 1) % 100 as varchar), 2, '0')
        else (year({{ date_expr }}) - 1) || '-' || lpad(cast(year({{ date_expr }}) % 100 as varchar), 2, '0')
    end
{%- endmacro %}
