{#- A rate as NHS Digital publishes it: 0 over a zero denominator, NULL if either count is. -#}
{% macro rate(numerator, denominator) -%}
    case when {{ denominator }} = 0 then 0.0 else {{ numerator }} / {{ denominator }} end
{%- endmacro %}
