{{ config(meta={'dagster': {'ref': {'name': 'suppression_log'}}}) }}
-- Disclosure at one gate, checked from the other side: no published cell holds a value
-- the suppression log withholds, whatever the indicator catalogue says of the indicator
-- (core or not). Each row returned is a leak: the table, the cell and what it shows.
with log as (
    select * from {{ ref('suppression_log') }}
),

-- FFT: a suppressed row shows no answer count, and a primary one no percentage; every row
-- with 1 to 4 responses is logged as primary.
fft_rows as (
    select 'fft_responses' as table_name, f.financial_year, f.provider_code,
        f.setting || ' ' || f.month || ' ' || f.suppression as cell
    from {{ ref('fft_responses') }} as f
    inner join log as l
        on l.table_name = 'fft_responses'
        and f.financial_year = l.financial_year
        and f.setting = l.setting
        and f.provider_code = l.provider_code
        and f.month = l.month
    where coalesce(f.very_good, f.good, f.neither, f.poor, f.very_poor, f.dont_know) is not null
        or (l.suppression = 'primary'
            and coalesce(f.percentage_positive, f.percentage_negative) is not null)
    union all
    select 'fft_responses', f.financial_year, f.provider_code,
        f.setting || ' ' || f.month || ' 1 to 4 responses not logged as primary'
    from {{ ref('fft_responses') }} as f
    left join log as l
        on l.table_name = 'fft_responses'
        and f.financial_year = l.financial_year
        and f.setting = l.setting
        and f.provider_code = l.provider_code
        and f.month = l.month
        and l.suppression = 'primary'
    where f.total_responses between 1 and 4 and l.table_name is null
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

select * from fft_rows
union all select * from proms_figures
union all select * from indicator_leaks
union all select * from core_this_year
union all select * from core_last_year
