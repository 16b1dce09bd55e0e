-- The NRLS cluster list: each organisation's cluster of similar organisations, from the
-- latest list delivered (a later list replaces an organisation's row: supersession).
select
    organisation_code as provider_code,
    trim(cluster) as cluster,
    source_file
from {{ source('raw', 'incident_clusters') }}
where organisation_code <> 'ENG'
qualify row_number() over (
    partition by organisation_code order by source_file desc, row_number desc
) = 1
