-- PROMs participation and linkage per provider and PartLink procedure, with rates
-- recomputed from the published counts: participation = pre-op questionnaires / HES
-- procedures, linkage = linked / pre-op questionnaires, issue = Q2s sent / pre-op
-- questionnaires, response = Q2s returned / Q2s sent. As NHS Digital publishes them, a rate
-- over a zero denominator is 0 and rates may exceed 1 (questionnaires without a matching
-- HES episode). Where a count is suppressed (`*`) the rate is the one PartLink printed,
-- which is NULL unless PartLink chose to publish it.
with partlink as (
    select * from {{ ref('stg_proms__participation') }}
)

select
    financial_year,
    provider_code,
    procedure,
    hes_procedures,
    pre_op_questionnaires,
    coalesce({{ rate('pre_op_questionnaires', 'hes_procedures') }}, published_participation_rate) as participation_rate,
    linked,
    coalesce({{ rate('linked', 'pre_op_questionnaires') }}, published_linkage_rate) as linkage_rate,
    q2_issued,
    coalesce({{ rate('q2_issued', 'pre_op_questionnaires') }}, published_issue_rate) as issue_rate,
    q2_returned,
    coalesce({{ rate('q2_returned', 'q2_issued') }}, published_response_rate) as response_rate,
    hes_procedures_suppressed,
    provider_name,
    source_file
from partlink
