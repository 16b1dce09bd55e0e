-- Every indicator per provider and financial year with the national value, funnel limits and
-- the comparison with what is expected (exact figures; the published table applies
-- disclosure control).
--   SHMI, PROMs and readmissions keep the publisher's own verdict and limits (SHMI banding
--   at 95%; PROMs outlier status at 99.8%; readmissions by NHS Digital's 95% confidence
--   interval against England's figure from the same file).
--   Proportions, rates and survey scores are compared on funnel plots as NHS-R FunnelPlotR
--   computes them (int_indicators__funnel_limits): outside the 99.8% limits is higher or
--   lower than expected.
--   Counts (C. difficile, MRSA, Never Events) are compared with their objective
--   (int_indicators__objectives): above it is higher than expected.
-- A provider below the indicator's minimum denominator is 'insufficient data', without limits.
with observations as (
    select * from {{ ref('int_indicators__observations') }}
),

catalogue as (
    select * from {{ ref('indicator_definitions') }}
),

limits as (
    select * from {{ ref('int_indicators__funnel_limits') }}
),

objectives as (
    select * from {{ ref('int_indicators__objectives') }}
),

judged as (
    select
        o.*,
        c.method,
        c.multiplier,
        c.min_denominator,
        l.lower_95,
        l.upper_95,
        l.lower_998,
        l.upper_998,
        l.comparator,
        l.target as comparator_value,
        l.tau2,
        (
            select min(objective) from objectives as ob
            where ob.indicator_code = o.indicator_code
                and ob.financial_year in (o.financial_year, '*')
                and ob.provider_code in (o.provider_code, '*')
        ) as objective
    from observations as o
    inner join catalogue as c using (indicator_code)
    left join limits as l using (financial_year, provider_code, indicator_code)
),

judged_pct as (
    select
        financial_year,
        provider_code,
        case
            when value is null or lower_998 is null then 'insufficient data'
            when value > upper_998 then 'higher than expected'
            when value < lower_998 then 'lower than expected'
            else 'as expected'
        end as severe_pct_comparison
    from judged
    where indicator_code = 'severe_harm_pct'
),

national as (
    -- Pooled over every provider with a denominator for proportions and rates (whatever
    -- group a provider is compared within), the mean for scores and counts, the publisher's
    -- figure for SHMI, PROMs and readmissions.
    select
        financial_year,
        indicator_code,
        case
            when any_value(method) in ('proportion_funnel', 'rate_funnel')
                then sum(numerator) filter (where denominator > 0)
                    / sum(denominator) filter (where denominator > 0) * any_value(multiplier)
            when any_value(method) in ('shmi_banding', 'proms_outlier', 'published_interval')
                then any_value(official_national)
            else avg(value)
        end as national_value
    from judged
    group by all
)

select
    j.financial_year,
    j.provider_code,
    j.indicator_code,
    j.numerator,
    j.denominator,
    j.value,
    n.national_value,
    case when j.min_denominator is null or j.denominator >= j.min_denominator
        then coalesce(j.lower_95, j.official_lower_95) end as lower_95,
    case when j.min_denominator is null or j.denominator >= j.min_denominator
        then coalesce(j.upper_95, j.official_upper_95) end as upper_95,
    case when j.min_denominator is null or j.denominator >= j.min_denominator
        then coalesce(j.lower_998, j.official_lower_998) end as lower_998,
    case when j.min_denominator is null or j.denominator >= j.min_denominator
        then coalesce(j.upper_998, j.official_upper_998) end as upper_998,
    case
        when j.method in ('shmi_banding', 'proms_outlier', 'published_interval')
            then j.official_comparison
        when j.method = 'proportion_of_parent' then coalesce(parent.severe_pct_comparison, 'insufficient data')
        when j.value is null then 'insufficient data'
        when j.method = 'objective' and j.objective is null then 'insufficient data'
        when j.method = 'objective' and j.value > j.objective then 'higher than expected'
        when j.method = 'objective' then 'as expected'
        when j.lower_998 is null then 'insufficient data'
        when j.value > j.upper_998 then 'higher than expected'
        when j.value < j.lower_998 then 'lower than expected'
        else 'as expected'
    end as comparison,
    j.objective,
    j.comparator,
    j.comparator_value,
    j.tau2 as overdispersion_tau2,
    j.method,
    j.note
from judged as j
inner join national as n using (financial_year, indicator_code)
left join judged_pct as parent
    on j.indicator_code = 'severe_harm_count'
    and j.financial_year = parent.financial_year
    and j.provider_code = parent.provider_code
