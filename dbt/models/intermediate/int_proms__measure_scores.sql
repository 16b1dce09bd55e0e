-- One row per record and measure: the shape every PROMs figure is computed from.
-- A record is "modelled" for a measure when its pre-op, post-op and predicted post-op
-- scores are all present (NHS Digital, A guide to PROMs methodology).
with records as (
    select * from {{ ref('stg_proms__records') }}
),

measures as (
    select * from {{ ref('proms_measures') }}
),

long as (
    select sha256, row_number, financial_year, provider_code, joint, is_revision,
        'oxford' as measure_code,
        pre_oxford_score as pre_op, post_oxford_score as post_op, oxford_predicted as predicted
    from records
    union all
    select sha256, row_number, financial_year, provider_code, joint, is_revision, 'eq5d',
        pre_eq5d_index, post_eq5d_index, eq5d_index_predicted
    from records
    union all
    select sha256, row_number, financial_year, provider_code, joint, is_revision, 'eq_vas',
        pre_eq_vas, post_eq_vas, eq_vas_predicted
    from records
)

select
    long.sha256,
    long.row_number,
    long.financial_year,
    long.provider_code,
    long.joint,
    case when long.is_revision then 'Revision' else 'Primary' end as subgroup,
    long.measure_code,
    measures.measure,
    long.pre_op,
    long.post_op,
    long.predicted,
    long.pre_op is not null and long.post_op is not null and long.predicted is not null
        as is_modelled,
    long.post_op - long.predicted as residual
from long
inner join measures
    on long.joint = measures.joint and long.measure_code = measures.measure_code
