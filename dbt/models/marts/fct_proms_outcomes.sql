-- PROMs outcomes per financial year, provider (ENG for England), procedure group and
-- measure, unsuppressed: the private mart the published table is cut from.
--
-- Case-mix adjustment (NHS Digital, A guide to PROMs methodology v12):
--   adjusted post-op = England average post-op + (provider mean residual - England mean
--   residual), residual = post-op - predicted post-op, so England's adjusted score equals its
--   actual score; adjusted health gain = adjusted post-op - England average pre-op.
-- Funnel limits around England's health gain: +- z x England residual SD / sqrt(n), with z
-- and the minimum number of records from seeds. Totals are adjusted by NHS Digital with a
-- model whose predicted scores are not public, so their adjusted figures stay NULL.
with figures as (
    select * from {{ ref('int_proms__subgroup_figures') }}
),

disclosure as (
    select * from {{ ref('int_proms__disclosure') }}
),

parameters as (
    select
        max(value) filter (where parameter = 'min_modelled_records') as min_records
    from {{ ref('proms_parameters') }}
),

z as (
    select
        max(z) filter (where limit_level = '95%') as z95,
        max(z) filter (where limit_level = '99.8%') as z998
    from {{ ref('proms_outlier_limits') }}
),

england as (
    select * from figures where provider_code = 'ENG'
),

subgroups as (
    select
        f.financial_year,
        f.provider_code,
        f.joint,
        f.subgroup,
        f.measure_code,
        f.measure,
        f.modelled_records,
        f.average_pre_op_score,
        f.average_post_op_score,
        f.improved,
        f.same,
        f.worse,
        f.mean_residual,
        f.residual_sd,
        e.average_post_op_score - e.average_pre_op_score as england_health_gain,
        e.average_pre_op_score as england_pre_op,
        e.average_post_op_score as england_post_op,
        e.mean_residual as england_mean_residual,
        e.residual_sd / sqrt(greatest(f.modelled_records, 1)) as standard_error,
        f.modelled_records >= parameters.min_records as has_enough_records,
        z.z95,
        z.z998
    from figures as f
    inner join england as e
        on f.financial_year = e.financial_year
        and f.joint = e.joint
        and f.subgroup = e.subgroup
        and f.measure_code = e.measure_code
    cross join parameters
    cross join z
),

subgroup_rows as (
    select
        *,
        case when has_enough_records
            then england_post_op + mean_residual - england_mean_residual
        end as adjusted_post_op_score,
        case when has_enough_records and provider_code <> 'ENG'
            then (mean_residual - england_mean_residual) / standard_error
        end as z_score
    from subgroups
),

totals as (
    select
        f.financial_year,
        f.provider_code,
        f.joint,
        'Total' as subgroup,
        f.measure_code,
        f.measure,
        sum(f.modelled_records) as modelled_records,
        sum(f.sum_pre_op) / nullif(sum(f.modelled_records), 0) as average_pre_op_score,
        sum(f.sum_post_op) / nullif(sum(f.modelled_records), 0) as average_post_op_score,
        sum(f.improved) as improved,
        sum(f.same) as same,
        sum(f.worse) as worse
    from figures as f
    group by all
),

combined as (
    select
        financial_year, provider_code, joint, subgroup, measure_code, measure,
        modelled_records, average_pre_op_score, average_post_op_score, improved, same, worse,
        adjusted_post_op_score,
        adjusted_post_op_score - england_pre_op as adjusted_health_gain,
        case when has_enough_records then residual_sd end as standard_deviation,
        z_score,
        england_health_gain as england_adjusted_health_gain,
        case when z_score is not null then england_health_gain - z998 * standard_error end
            as lower_limit_998,
        case when z_score is not null then england_health_gain - z95 * standard_error end
            as lower_limit_95,
        case when z_score is not null then england_health_gain + z95 * standard_error end
            as upper_limit_95,
        case when z_score is not null then england_health_gain + z998 * standard_error end
            as upper_limit_998,
        case
            when modelled_records = 0 then 'No procedures'
            when not has_enough_records then 'Insufficient records'
            when provider_code = 'ENG' then 'Not an outlier'
            when z_score > z998 then 'Positive outlier (99.8%)'
            when z_score > z95 then 'Positive outlier (95%)'
            when z_score < -z998 then 'Negative outlier (99.8%)'
            when z_score < -z95 then 'Negative outlier (95%)'
            else 'Not an outlier'
        end as outlier_status
    from subgroup_rows
    union all
    select
        financial_year, provider_code, joint, subgroup, measure_code, measure,
        modelled_records, average_pre_op_score, average_post_op_score, improved, same, worse,
        null, null, null, null, null, null, null, null, null,
        null
    from totals
)

select
    c.financial_year,
    c.provider_code,
    c.joint,
    c.subgroup,
    case when c.subgroup = 'Total'
        then 'Total ' || upper(left(c.joint, 1)) || substr(c.joint, 2) || ' Replacement'
        else upper(left(c.joint, 1)) || substr(c.joint, 2) || ' Replacement ' || c.subgroup
    end as procedure,
    c.measure_code,
    c.measure,
    cast(c.modelled_records as integer) as modelled_records,
    c.average_pre_op_score,
    c.average_post_op_score,
    c.average_post_op_score - c.average_pre_op_score as health_gain,
    cast(c.improved as integer) as improved,
    cast(c.same as integer) as same,
    cast(c.worse as integer) as worse,
    c.adjusted_post_op_score,
    c.adjusted_health_gain,
    c.standard_deviation,
    c.z_score,
    c.england_adjusted_health_gain,
    c.lower_limit_998,
    c.lower_limit_95,
    c.upper_limit_95,
    c.upper_limit_998,
    c.outlier_status,
    d.reason is not null as is_suppressed,
    d.reason as suppression_reason
from combined as c
left join disclosure as d
    on c.financial_year = d.financial_year
    and c.provider_code = d.provider_code
    and c.joint = d.joint
    and c.subgroup = d.subgroup
