select
    p.financial_year,
    p.provider_code,
    coalesce(d.region_code, 'UNKNOWN') as region_code,
    p.procedure,
    cast(p.hes_procedures as integer) as hes_procedures,
    cast(p.pre_op_questionnaires as integer) as pre_op_questionnaires,
    p.participation_rate,
    cast(p.linked as integer) as linked,
    p.linkage_rate,
    cast(p.q2_issued as integer) as q2_issued,
    p.issue_rate,
    cast(p.q2_returned as integer) as q2_returned,
    p.response_rate
from {{ ref('fct_proms_participation') }} as p
left join {{ ref('dim_providers') }} as d on p.provider_code = d.provider_code
