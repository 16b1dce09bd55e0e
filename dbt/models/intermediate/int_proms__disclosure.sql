-- Which of a provider's PROMs groups NHS Digital suppresses, read from PartLink.
-- A subgroup with 1-5 HES procedures is suppressed, and a second one where the first could
-- be worked out from the joint's total. PartLink shows `*` without saying which is the small
-- one, so: everything where the joint's total is `*`; the revision subgroup where its own
-- count is `*`; the primary where its count is `*` and the revision's is not. Where both
-- subgroups are `*` under a published total the revision is taken as the small one (true of
-- every such case in the 2016-17 and 2017-18 publications).
with partlink as (
    select * from {{ ref('stg_proms__participation') }}
),

joints as (
    select
        financial_year,
        provider_code,
        case when procedure like '%Hip Replacement' then 'hip' else 'knee' end as joint,
        bool_or(hes_procedures_suppressed) filter (where procedure like 'Primary %') as primary_star,
        bool_or(hes_procedures_suppressed) filter (where procedure like 'Revision %') as revision_star,
        bool_or(hes_procedures_suppressed) filter (
            where procedure in ('Hip Replacement', 'Knee Replacement')
        ) as total_star
    from partlink
    where procedure like '%Hip Replacement' or procedure like '%Knee Replacement'
    group by all
)

select financial_year, provider_code, joint, 'Total' as subgroup,
    'joint total suppressed in PartLink' as reason
from joints where total_star
union all
select financial_year, provider_code, joint, 'Revision',
    case when total_star then 'joint total suppressed in PartLink'
        else 'revision HES procedures suppressed in PartLink' end
from joints where total_star or revision_star
union all
select financial_year, provider_code, joint, 'Primary',
    case when total_star then 'joint total suppressed in PartLink'
        else 'primary HES procedures suppressed in PartLink' end
from joints where total_star or (primary_star and not coalesce(revision_star, false))
