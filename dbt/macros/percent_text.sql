{#
    A fraction as the documents print a percentage: one decimal place, rounded half away
    from zero (dagster_project/publish/figures.py applies the same rule to every figure the
    documents print, so 248 of 265 is 93.6% in a reason and in a table alike).

    Compared with a threshold, a figure that one decimal place would round onto the
    threshold from the other side keeps the decimals that show which side it is on:
    0.8499 against "at least 85%" is 84.99%, never 85.0%, so a reason never shows a
    figure that misses a threshold as meeting it.
#}
{% macro round_half_away(value, places) -%}
    (sign({{ value }}) * floor(abs({{ value }}) * power(10, {{ places }}) + 0.5 + 1e-9)
        / power(10, {{ places }}))
{%- endmacro %}

{% macro percent_text(fraction, threshold=none) -%}
    {%- set pct = '(' ~ fraction ~ ') * 100' -%}
    {%- if threshold is none -%}
        printf('%.1f', {{ round_half_away(pct, 1) }}) || '%'
    {%- else -%}
        {%- set limit = '(' ~ threshold ~ ') * 100' -%}
        case
            when {{ threshold }} is null or {{ fraction }} = {{ threshold }}
                or {{ round_half_away(pct, 1) }} <> {{ round_half_away(limit, 1) }}
                then printf('%.1f', {{ round_half_away(pct, 1) }})
            when {{ round_half_away(pct, 2) }} <> {{ round_half_away(limit, 2) }}
                then printf('%.2f', {{ round_half_away(pct, 2) }})
            else printf('%.3f', {{ round_half_away(pct, 3) }})
        end || '%'
    {%- endif -%}
{%- endmacro %}
