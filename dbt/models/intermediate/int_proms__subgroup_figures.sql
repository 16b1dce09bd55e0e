-- Figures per provider (and for England, provider ENG) per joint, primary/revision subgroup
-- and measure, over modelled records only. Every provider with any record in a subgroup
-- gets a row for every measure, with 0 modelled records where none is complete.
with scores as (
    select * from {{ ref('int_proms__measure_scores') }}
),

units as (
    select distinct financial_year, provider_code, joint, subgroup, measure_code, measure
    from scores
    union all
    select distinct financial_year, 'ENG', joint, subgroup, measure_code, measure
    from scores
),

figures as (
    select
        financial_year,
        coalesce(provider_code, 'ENG') as provider_code,
        joint,
        subgroup,
        measure_code,
        count(*) as modelled_records,
        avg(pre_op) as average_pre_op_score,
        avg(post_op) as average_post_op_score,
        count(*) filter (where post_op > pre_op) as improved,
        count(*) filter (where post_op = pre_op) as same,
        count(*) filter (where post_op < pre_op) as worse,
        sum(pre_op) as sum_pre_op,
        sum(post_op) as sum_post_op,
        avg(residual) as mean_residual,
        stddev_samp(residual) as residual_sd
    from scores
    where is_modelled
    group by grouping sets (
        (financial_year, provider_code, joint, subgroup, measure_code),
        (financial_year, joint, subgroup, measure_code)
    )
)

select
    units.financial_year,
    units.provider_code,
    units.joint,
    units.subgroup,
    units.measure_code,
    units.measure,
    coalesce(figures.modelled_records, 0) as modelled_records,
    figures.average_pre_op_score,
    figures.average_post_op_score,
    coalesce(figures.improved, 0) as improved,
    coalesce(figures.same, 0) as same,
    coalesce(figures.worse, 0) as worse,
    coalesce(figures.sum_pre_op, 0) as sum_pre_op,
    coalesce(figures.sum_post_op, 0) as sum_post_op,
    figures.mean_residual,
    figures.residual_sd
from units
left join figures
    on units.financial_year = figures.financial_year
    and units.provider_code = figures.provider_code
    and units.joint = figures.joint
    and units.subgroup = figures.subgroup
    and units.measure_code = figures.measure_code
