-- Every monthly series charted with statistical process control (seed spc_series), per
-- provider: FFT percentage positive per setting as published (a month withheld by
-- disclosure control has no point), and UKHSA counts per organism summed over the metrics
-- the series names. Each financial year's series is every month up to that year's March
-- (the data its Quality Account reports on). One row per provider, series, year and month.
with series as (
    select * from {{ ref('spc_series') }}
),

fft as (
    select
        s.series_code,
        f.provider_code,
        f.month,
        f.percentage_positive as value
    from {{ ref('fft_responses') }} as f
    inner join series as s on s.feed = 'fft' and f.setting = s.selector
    where f.level = 'provider' and f.percentage_positive is not null
),

hcai as (
    select
        s.series_code,
        c.provider_code,
        c.month,
        cast(sum(c.cases) as double) as value
    from {{ ref('hcai_counts') }} as c
    inner join series as s
        on s.feed = 'hcai'
        and c.organism = s.selector
        and list_contains(string_split(s.metrics, ';'), c.metric)
    where c.cases is not null
    group by all
),

months as (
    select * from fft
    union all
    select * from hcai
),

years as (
    select distinct {{ financial_year_of('month') }} as financial_year from months
)

select m.series_code, m.provider_code, y.financial_year, m.month, m.value
from months as m
inner join years as y
    on m.month < make_date(cast(left(y.financial_year, 4) as integer) + 1, 4, 1)
