-- Every indicator per provider and financial year with the national value, funnel limits and
-- the comparison with what is expected (exact figures; the published table applies
-- disclosure control).
--   SHMI and PROMs keep the publisher's own verdict (SHMI banding at 95%; PROMs outlier
--   status at 99.8%) and limits.
--   Proportions: target p0 = pooled national proportion, SE = sqrt(p0 (1 - p0) / n).
--   Rates: target r0 = pooled national rate, SE = sqrt(r0 / n) (Poisson, normal approximation).
--   Scores without a sample size (surveys): target = mean over providers, SE = 0, so the
--   spread between providers is all overdispersion.
--   Overdispersion (Spiegelhalter 2005, as NHS-R FunnelPlotR): z-scores Winsorised at the
--   10th and 90th percentiles, phi = mean z^2, tau^2 = max(0, (n phi - (n - 1)) /
--   (sum w - sum w^2 / sum w)) with w = 1 / SE^2; limits target +- z sqrt(SE^2 + tau^2).
--   For scores, tau^2 is the variance of the Winsorised values.
--   Counts (C. difficile, MRSA, Never Events) are compared with their objective
--   (int_indicators__objectives): above it is higher than expected.
-- A provider below the indicator's minimum denominator is 'insufficient data', without limits.
with observations as (
    select * from {{ ref('int_indicators__observations') }}
),

catalogue as (
    select * from {{ ref('indicator_definitions') }}
),

parameters as (
    select
        max(value) filter (where parameter = 'z_95') as z95,
        max(value) filter (where parameter = 'z_998') as z998,
        max(value) filter (where parameter = 'winsor_fraction') as winsor
    from {{ ref('funnel_parameters') }}
),

targets as (
    select
        o.financial_year,
        o.indicator_code,
        case
            when any_value(c.method) in ('proportion_funnel', 'rate_funnel')
                then sum(o.numerator) filter (where o.denominator > 0)
                    / sum(o.denominator) filter (where o.denominator > 0)
            when any_value(c.method) = 'score_spread' then avg(o.value)
        end as target,
        count(*) as providers
    from observations as o
    inner join catalogue as c using (indicator_code)
    group by all
),

scored as (
    select
        o.*,
        c.method,
        c.multiplier,
        c.min_denominator,
        t.target,
        case
            when c.method = 'proportion_funnel' and o.denominator > 0
                then sqrt(t.target * (1 - t.target) / o.denominator)
            when c.method = 'rate_funnel' and o.denominator > 0
                then sqrt(t.target / o.denominator)
            when c.method = 'score_spread' then 0.0
        end as se,
        case when c.method in ('proportion_funnel', 'rate_funnel') and o.denominator > 0
            then o.numerator / o.denominator end as observed_fraction
    from observations as o
    inner join catalogue as c using (indicator_code)
    left join targets as t using (financial_year, indicator_code)
),

eligible as (
    select
        *,
        case when se > 0 then (observed_fraction - target) / se end as z
    from scored
    where method in ('proportion_funnel', 'rate_funnel', 'score_spread')
        and value is not null
        and (min_denominator is null or denominator >= min_denominator)
),

bounds as (
    -- Winsorising bounds: the k-th smallest and k-th largest, k = ceil(n x fraction) (at
    -- least 1), so the most extreme tenth at each end is pulled in to its edge.
    select
        financial_year,
        indicator_code,
        list_sort(list(z) filter (where z is not null)) as zs,
        list_sort(list(value)) as vs,
        greatest(cast(ceil(count(z) * any_value(p.winsor)) as integer), 1) as kz,
        greatest(cast(ceil(count(value) * any_value(p.winsor)) as integer), 1) as kv
    from eligible
    cross join parameters as p
    group by all
),

clip as (
    select
        financial_year,
        indicator_code,
        zs[kz] as z_low,
        zs[len(zs) - kz + 1] as z_high,
        vs[kv] as value_low,
        vs[len(vs) - kv + 1] as value_high
    from bounds
),

overdispersion as (
    select
        e.financial_year,
        e.indicator_code,
        count(*) as n,
        avg(power(least(greatest(e.z, b.z_low), b.z_high), 2)) as phi,
        sum(1 / (e.se * e.se)) filter (where e.se > 0) as sum_w,
        sum(1 / power(e.se, 4)) filter (where e.se > 0) as sum_w2,
        var_samp(least(greatest(e.value, b.value_low), b.value_high)) as score_variance
    from eligible as e
    inner join clip as b using (financial_year, indicator_code)
    group by all
),

tau as (
    select
        financial_year,
        indicator_code,
        case
            when score_variance is not null and sum_w is null then score_variance
            when n > 1 and sum_w - sum_w2 / sum_w > 0
                then greatest((n * phi - (n - 1)) / (sum_w - sum_w2 / sum_w), 0)
            else 0
        end as tau2
    from overdispersion
),

limits as (
    select
        s.*,
        tau.tau2,
        case when s.method = 'score_spread' then 1 else s.multiplier end as scale,
        sqrt(coalesce(s.se, 0) * coalesce(s.se, 0) + coalesce(tau.tau2, 0)) as spread
    from scored as s
    left join tau using (financial_year, indicator_code)
),

objectives as (
    select * from {{ ref('int_indicators__objectives') }}
),

judged as (
    select
        l.*,
        case when l.method in ('proportion_funnel', 'rate_funnel', 'score_spread')
            then (l.target - p.z95 * l.spread) * l.scale end as lower_95,
        case when l.method in ('proportion_funnel', 'rate_funnel', 'score_spread')
            then (l.target + p.z95 * l.spread) * l.scale end as upper_95,
        case when l.method in ('proportion_funnel', 'rate_funnel', 'score_spread')
            then (l.target - p.z998 * l.spread) * l.scale end as lower_998,
        case when l.method in ('proportion_funnel', 'rate_funnel', 'score_spread')
            then (l.target + p.z998 * l.spread) * l.scale end as upper_998,
        (
            select min(objective) from objectives as ob
            where ob.indicator_code = l.indicator_code
                and ob.financial_year in (l.financial_year, '*')
                and ob.provider_code in (l.provider_code, '*')
        ) as objective
    from limits as l
    cross join parameters as p
),

judged_pct as (
    select
        financial_year,
        provider_code,
        case
            when value is null or (min_denominator is not null and denominator < min_denominator)
                then 'insufficient data'
            when value > upper_998 then 'higher than expected'
            when value < lower_998 then 'lower than expected'
            else 'as expected'
        end as severe_pct_comparison
    from judged
    where indicator_code = 'severe_harm_pct'
),

national as (
    select
        financial_year,
        indicator_code,
        case
            when any_value(method) in ('proportion_funnel', 'rate_funnel')
                then any_value(target) * any_value(multiplier)
            when any_value(method) in ('shmi_banding', 'proms_outlier')
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
        when j.method in ('shmi_banding', 'proms_outlier') then j.official_comparison
        when j.method = 'proportion_of_parent' then coalesce(parent.severe_pct_comparison, 'insufficient data')
        when j.value is null then 'insufficient data'
        when j.method = 'objective' and j.objective is null then 'insufficient data'
        when j.method = 'objective' and j.value > j.objective then 'higher than expected'
        when j.method = 'objective' then 'as expected'
        when j.min_denominator is not null and j.denominator < j.min_denominator
            then 'insufficient data'
        when j.value > j.upper_998 then 'higher than expected'
        when j.value < j.lower_998 then 'lower than expected'
        else 'as expected'
    end as comparison,
    j.objective,
    j.tau2 as overdispersion_tau2,
    j.method,
    j.note
from judged as j
inner join national as n using (financial_year, indicator_code)
left join judged_pct as parent
    on j.indicator_code = 'severe_harm_count'
    and j.financial_year = parent.financial_year
    and j.provider_code = parent.provider_code
