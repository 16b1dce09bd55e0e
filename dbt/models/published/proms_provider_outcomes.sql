-- Disclosure control as NHS Digital applies it to ProvComm and Time Series:
--   * a group suppressed in PartLink shows no figures, and of its status only the
--     count-based words (No procedures, Insufficient records);
--   * a total's counts are the sum of its subgroups' published counts (a suppressed
--     subgroup adds nothing), while its averages cover every modelled record;
--   * adjusted figures, standard deviation and outlier status only from the minimum number
--     of modelled records (seed proms_parameters), else `Insufficient records`.
with outcomes as (
    select * from {{ ref('fct_proms_outcomes') }}
),

providers as (
    select * from {{ ref('dim_providers') }}
),

parameters as (
    select max(value) filter (where parameter = 'min_modelled_records') as min_records
    from {{ ref('proms_parameters') }}
),

disclosed_subgroups as (
    select
        financial_year,
        provider_code,
        joint,
        measure_code,
        sum(modelled_records) filter (where not is_suppressed) as modelled_records,
        sum(improved) filter (where not is_suppressed) as improved,
        sum(same) filter (where not is_suppressed) as same,
        sum(worse) filter (where not is_suppressed) as worse
    from outcomes
    where subgroup <> 'Total'
    group by all
),

shaped as (
    select
        o.*,
        case
            when o.subgroup = 'Total' then coalesce(s.modelled_records, 0)
            else o.modelled_records
        end as disclosed_records,
        case when o.subgroup = 'Total' then s.improved else o.improved end as disclosed_improved,
        case when o.subgroup = 'Total' then s.same else o.same end as disclosed_same,
        case when o.subgroup = 'Total' then s.worse else o.worse end as disclosed_worse
    from outcomes as o
    left join disclosed_subgroups as s
        on o.subgroup = 'Total'
        and o.financial_year = s.financial_year
        and o.provider_code = s.provider_code
        and o.joint = s.joint
        and o.measure_code = s.measure_code
)

select
    shaped.financial_year,
    shaped.provider_code,
    coalesce(providers.region_code, 'UNKNOWN') as region_code,
    shaped.procedure,
    shaped.measure,
    cast(case when not is_suppressed then disclosed_records end as integer) as modelled_records,
    case when not is_suppressed then average_pre_op_score end as average_pre_op_score,
    case when not is_suppressed then average_post_op_score end as average_post_op_score,
    case when not is_suppressed then health_gain end as health_gain,
    cast(case when not is_suppressed and disclosed_records > 0 then disclosed_improved end
        as integer) as improved,
    cast(case when not is_suppressed and disclosed_records > 0 then disclosed_same end
        as integer) as same,
    cast(case when not is_suppressed and disclosed_records > 0 then disclosed_worse end
        as integer) as worse,
    case when not is_suppressed then adjusted_post_op_score end as adjusted_post_op_score,
    case when not is_suppressed then adjusted_health_gain end as adjusted_health_gain,
    case when not is_suppressed then standard_deviation end as standard_deviation,
    case
        when subgroup = 'Total' and disclosed_records = 0 then 'No procedures'
        when subgroup = 'Total' and disclosed_records < parameters.min_records
            then 'Insufficient records'
        when subgroup = 'Total' then null
        when is_suppressed and outlier_status not in ('No procedures', 'Insufficient records')
            then null
        else outlier_status
    end as outlier_status,
    case when not is_suppressed then england_adjusted_health_gain end
        as england_adjusted_health_gain,
    case when not is_suppressed then lower_limit_998 end as lower_limit_998,
    case when not is_suppressed then lower_limit_95 end as lower_limit_95,
    case when not is_suppressed then upper_limit_95 end as upper_limit_95,
    case when not is_suppressed then upper_limit_998 end as upper_limit_998
from shaped
cross join parameters
left join providers on shaped.provider_code = providers.provider_code
