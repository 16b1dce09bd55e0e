-- SHMI for a financial year is the publication whose 12 months end in March of that year.
-- Files do not state their period, so it is worked out from the publication month and the
-- publication lag of its era (seed shmi_publication_lag). A year whose publication is absent
-- has no SHMI value (it is not borrowed from a neighbouring publication).
with lags as (
    select
        cast(from_publication as date) as from_publication,
        lead(cast(from_publication as date)) over (order by from_publication) as until_publication,
        lag_months
    from {{ ref('shmi_publication_lag') }}
),

publications as (
    select distinct publication from {{ ref('fct_shmi') }}
),

periods as (
    select
        publications.publication,
        cast(publications.publication - to_months(cast(lags.lag_months as integer)) as date)
            as period_end_month
    from publications
    inner join lags
        on publications.publication >= lags.from_publication
        and (lags.until_publication is null or publications.publication < lags.until_publication)
)

select
    shmi.*,
    (year(periods.period_end_month) - 1) || '-' || lpad(cast(year(periods.period_end_month) % 100 as varchar), 2, '0')
        as financial_year,
    periods.period_end_month
from {{ ref('fct_shmi') }} as shmi
inner join periods on shmi.publication = periods.publication
where month(periods.period_end_month) = 3
qualify row_number() over (
    partition by shmi.provider_code, periods.period_end_month order by shmi.publication desc
) = 1
