{{ config(meta={'dagster': {'ref': {'name': 'suppression_log'}}}) }}
-- Disclosure at one gate, checked from the other side: no published cell holds a value
-- the suppression log withholds, whatever the indicator catalogue says of the indicator
-- (core or not). Each row returned is a leak: the table, the cell and what it shows.
with log as (
    select * from {{ ref('suppression_log') }}
),

-- FFT counts: the cell itself.
fft_counts as (
    select 'fft_responses' as table_name, f.financial_year, f.provider_code,
        f.setting || ' ' || f.month || ' ' || f.answer as cell
    from {{ ref('fft_responses') }} as f
    inner join log as l
        on l.table_name = 'fft_responses'
        and f.financial_year = l.financial_year
        and f.setting = l.setting
        and f.region_code = l.region_code
        and f.provider_code = l.provider_code
        and f.month = l.month
        and f.answer = l.answer
    where f.responses is not null
),

-- FFT indicators: a provider's year figure built from a withheld year cell.
fft_indicators as (
    select distinct financial_year, provider_code, 'fft_' || setting || '_positive_pct' as indicator_code
    from log
    where table_name = 'fft_responses' and month = 'ALL' and provider_code <> 'ALL'
        and answer in ('very_good', 'good', 'ALL')
    union
    select distinct financial_year, provider_code, 'fft_' || setting || '_negative_pct'
    from log
    where table_name = 'fft_responses' and month = 'ALL' and provider_code <> 'ALL'
        and answer in ('poor', 'very_poor', 'ALL')
    union
    select distinct financial_year, provider_code, 'fft_' || setting || '_response_rate'
    from log
    where table_name = 'fft_responses' and month = 'ALL' and provider_code <> 'ALL'
        and answer = 'ALL'
),

-- PROMs: every figure of a suppressed group; the primary group's adjusted health gains are
-- also indicators
proms_groups as (
    select financial_year, provider_code, procedure
    from log
    where table_name = 'proms_provider_outcomes'
),

proms_figures as (
    select 'proms_provider_outcomes' as table_name, o.financial_year, o.provider_code,
        o.procedure || ' ' || o.measure as cell
    from {{ ref('proms_provider_outcomes') }} as o
    inner join proms_groups as g using (financial_year, provider_code, procedure)
    where coalesce(
        o.modelled_records, o.average_pre_op_score, o.average_post_op_score, o.health_gain,
        o.improved, o.same, o.worse, o.adjusted_post_op_score, o.adjusted_health_gain,
        o.standard_deviation, o.england_adjusted_health_gain, o.lower_limit_998,
        o.lower_limit_95, o.upper_limit_95, o.upper_limit_998
    ) is not null
        or o.outlier_status not in ('No procedures', 'Insufficient records')
),

-- (every PROMs indicator is a measure's adjusted health gain in the primary group).
proms_indicators as (
    select distinct g.financial_year, g.provider_code, v.indicator_code
    from proms_groups as g
    inner join {{ ref('indicator_values') }} as v
        on g.financial_year = v.financial_year
        and g.provider_code = v.provider_code
        and v.indicator_code like 'proms_' || lower(split_part(g.procedure, ' ', 1)) || '_%'
    where g.procedure like '% Primary'
),

withheld_indicators as (
    select * from fft_indicators
    union
    select * from proms_indicators
),

indicator_leaks as (
    select 'indicator_values' as table_name, v.financial_year, v.provider_code,
        v.indicator_code as cell
    from {{ ref('indicator_values') }} as v
    inner join withheld_indicators as w using (financial_year, provider_code, indicator_code)
    where coalesce(v.numerator, v.denominator, v.value, v.lower_95, v.upper_95, v.lower_998,
        v.upper_998) is not null
),

core_this_year as (
    select 'core_indicators' as table_name, c.financial_year, c.provider_code,
        c.indicator_code as cell
    from {{ ref('core_indicators') }} as c
    inner join withheld_indicators as w using (financial_year, provider_code, indicator_code)
    where c.value is not null
),

core_last_year as (
    select 'core_indicators' as table_name, c.financial_year, c.provider_code,
        c.indicator_code || ' previous_value' as cell
    from {{ ref('core_indicators') }} as c
    inner join withheld_indicators as w
        on c.provider_code = w.provider_code
        and c.indicator_code = w.indicator_code
        and cast(left(c.financial_year, 4) as integer) = cast(left(w.financial_year, 4) as integer) + 1
    where c.previous_value is not null
)

select * from fft_counts
union all select * from proms_figures
union all select * from indicator_leaks
union all select * from core_this_year
union all select * from core_last_year
