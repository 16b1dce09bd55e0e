-- PartLink per organisation and procedure. England's row is given the code ENG used
-- everywhere else in the warehouse.
select
    financial_year,
    case when provider_code = 'England' then 'ENG' else provider_code end as provider_code,
    provider_name,
    procedure,
    hes_procedures,
    pre_op_questionnaires,
    linked,
    q2_issued,
    q2_returned,
    participation_rate as published_participation_rate,
    linkage_rate as published_linkage_rate,
    issue_rate as published_issue_rate,
    response_rate as published_response_rate,
    hes_procedures_suppressed,
    source_file,
    row_number
from {{ source('raw', 'proms_participation') }}
