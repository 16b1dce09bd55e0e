-- SHMI with NHS Digital's overdispersion-adjusted 95% control limits and banding, per
-- publication (each trust judged against the others in the same publication, a publication
-- being the twelve months to its period end).
--   z = sqrt(E) ln(O / E); drop the floor(10%) lowest and floor(10%) highest z-scores;
--   over the n kept trusts, phi = mean z^2 and the random-effects variance
--   tau^2 = max(0, (n phi - (n - 1)) / (sum E - sum E^2 / sum E));
--   limits exp(+- z95 sqrt(1 / E + tau^2)); banding compares SHMI (O / E to 4 dp, as
--   published) with the limits: above is higher than expected, below lower.
-- Spiegelhalter (2005); NHS Digital SHMI methodology. Parameters in seed shmi_parameters.
-- Beside each trust, the palliative care coding rates NHS Digital publishes as context.
with trusts as (
    select * from {{ ref('stg_shmi__trusts') }}
),

parameters as (
    select
        max(value) filter (where parameter = 'z_95') as z95,
        max(value) filter (where parameter = 'trim_fraction') as trim_fraction
    from {{ ref('shmi_parameters') }}
),

scored as (
    select
        trusts.*,
        sqrt(expected) * ln(observed / expected) as z,
        row_number() over (partition by period_end_month order by sqrt(expected) * ln(observed / expected), provider_code) as z_rank,
        count(*) over (partition by period_end_month) as trusts_in_publication
    from trusts
),

kept as (
    select scored.*
    from scored
    cross join parameters
    where z_rank > floor(trusts_in_publication * trim_fraction)
        and z_rank <= trusts_in_publication - floor(trusts_in_publication * trim_fraction)
),

overdispersion as (
    select
        period_end_month,
        count(*) as trusts_in_model,
        sum(z * z) / count(*) as phi,
        greatest(
            (count(*) * (sum(z * z) / count(*)) - (count(*) - 1))
            / (sum(expected) - sum(expected * expected) / sum(expected)),
            0
        ) as tau2
    from kept
    group by period_end_month
),

limits as (
    select
        scored.*,
        overdispersion.trusts_in_model,
        overdispersion.phi,
        overdispersion.tau2,
        round(scored.observed / scored.expected, 4) as shmi,
        exp(-parameters.z95 * sqrt(1 / scored.expected + overdispersion.tau2)) as lower_limit_95,
        exp(parameters.z95 * sqrt(1 / scored.expected + overdispersion.tau2)) as upper_limit_95
    from scored
    inner join overdispersion on scored.period_end_month = overdispersion.period_end_month
    cross join parameters
)

select
    limits.publication,
    limits.period_end_month,
    limits.provider_code,
    limits.provider_name,
    limits.spells,
    limits.observed,
    limits.expected,
    limits.shmi,
    limits.lower_limit_95,
    limits.upper_limit_95,
    bandings.banding_code,
    bandings.banding,
    limits.z,
    limits.trusts_in_publication,
    limits.trusts_in_model,
    limits.phi,
    limits.tau2,
    limits.published_shmi,
    limits.published_lower_limit,
    limits.published_upper_limit,
    limits.published_banding,
    palliative.palliative_care_deaths_pct,
    palliative.palliative_care_spells_pct,
    limits.source_file
from limits
left join {{ ref('stg_shmi__palliative') }} as palliative
    on limits.period_end_month = palliative.period_end_month
    and limits.provider_code = palliative.provider_code
inner join {{ ref('shmi_bandings') }} as bandings
    on bandings.banding_code = case
        when limits.shmi > limits.upper_limit_95 then 1
        when limits.shmi < limits.lower_limit_95 then 3
        else 2
    end
