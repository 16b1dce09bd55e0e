-- Indicator values as they may be published. Friends and Family Test numerators built from a
-- suppressed count are withheld with their denominator and value; everything else is
-- as computed in fct_indicator_values.
with values as (
    select * from {{ ref('fct_indicator_values') }}
),

fft_year_cells as (
    select financial_year, setting, provider_code, answer, suppressed
    from {{ ref('int_fft__disclosure') }}
    where month = 'ALL' and provider_code <> 'ALL'
),

withheld as (
    select
        financial_year,
        provider_code,
        'fft_' || setting || '_positive_pct' as indicator_code
    from fft_year_cells
    where suppressed and answer in ('very_good', 'good', 'ALL')
    union
    select financial_year, provider_code, 'fft_' || setting || '_negative_pct'
    from fft_year_cells
    where suppressed and answer in ('poor', 'very_poor', 'ALL')
    union
    select financial_year, provider_code, 'fft_' || setting || '_response_rate'
    from fft_year_cells
    where suppressed and answer = 'ALL'
)

select
    v.financial_year,
    v.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    v.indicator_code,
    case when w.indicator_code is null then v.numerator end as numerator,
    case when w.indicator_code is null then v.denominator end as denominator,
    case when w.indicator_code is null then v.value end as value,
    v.national_value,
    v.lower_95,
    v.upper_95,
    v.lower_998,
    v.upper_998,
    v.comparison
from values as v
left join withheld as w
    on v.financial_year = w.financial_year
    and v.provider_code = w.provider_code
    and v.indicator_code = w.indicator_code
left join {{ ref('dim_providers') }} as d on v.provider_code = d.provider_code
