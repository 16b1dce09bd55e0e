-- SHMI per trust and publication, with the last month of the twelve it covers: named in the
-- file since 2019 (`Nov20-Oct21`), before that worked out from the publication month and
-- the publication lag of its era (seed shmi_publication_lag).
with lags as (
    select
        cast(from_publication as date) as from_publication,
        lead(cast(from_publication as date)) over (order by from_publication) as until_publication,
        lag_months
    from {{ ref('shmi_publication_lag') }}
),

trusts as (
    select * from {{ source('raw', 'shmi') }}
)

select
    cast(trusts.publication as date) as publication,
    coalesce(
        cast(trusts.period_end as date),
        cast(cast(trusts.publication as date) - to_months(cast(lags.lag_months as integer)) as date)
    ) as period_end_month,
    trusts.provider_code,
    trusts.provider_name,
    trusts.spells,
    trusts.observed,
    trusts.expected,
    trusts.published_shmi,
    trusts.published_lower_limit,
    trusts.published_upper_limit,
    trusts.published_banding,
    trusts.source_file,
    trusts.row_number
from trusts
left join lags
    on cast(trusts.publication as date) >= lags.from_publication
    and (lags.until_publication is null or cast(trusts.publication as date) < lags.until_publication)
-- The same twelve months delivered under both namings count once: the file named by its period.
qualify row_number() over (
    partition by trusts.provider_code, period_end_month
    order by trusts.period_end is not null desc, trusts.source_file desc
) = 1
