-- Patient safety incidents, placed in the financial year of the incident date. An incident ID
-- delivered twice for a provider (a resubmitted extract) counts once, from the later file.
with incidents as (
    select
        organisation_code as provider_code,
        incident_id,
        cast(incident_date as date) as incident_date,
        cast(reported_date as date) as reported_date,
        category,
        degree_of_harm,
        never_event_type,
        source_file,
        row_number
    from {{ source('raw', 'incidents') }}
    qualify row_number() over (
        partition by organisation_code, incident_id order by source_file desc, row_number desc
    ) = 1
)

select
    *,
    {{ financial_year_of('incident_date') }} as financial_year,
    degree_of_harm in ('Severe', 'Death') as severe_or_death,
    never_event_type is not null as never_event
from incidents
