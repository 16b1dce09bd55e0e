-- NHS Digital's SHMI contextual indicators: the percentages of a trust's deaths and spells
-- with palliative care coding, one row per trust and publication, placed by the period it covers as the
-- trust-level file is (stg_shmi__trusts).
with lags as (
    select
        cast(from_publication as date) as from_publication,
        lead(cast(from_publication as date)) over (order by from_publication) as until_publication,
        lag_months
    from {{ ref('shmi_publication_lag') }}
),

rates as (
    select * from {{ source('raw', 'shmi_contextual') }}
),

placed as (
    select
        coalesce(
            cast(rates.period_end as date),
            cast(cast(rates.publication as date) - to_months(cast(lags.lag_months as integer)) as date)
        ) as period_end_month,
        rates.provider_code,
        rates.measure,
        rates.value
    from rates
    left join lags
        on cast(rates.publication as date) >= lags.from_publication
        and (lags.until_publication is null or cast(rates.publication as date) < lags.until_publication)
)

select
    period_end_month,
    provider_code,
    max(value) filter (where measure = 'deaths') as palliative_care_deaths_pct,
    max(value) filter (where measure = 'spells') as palliative_care_spells_pct
from placed
group by period_end_month, provider_code
