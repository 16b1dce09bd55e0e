select
    provider_code,
    provider_name,
    region_code,
    region_name,
    provider_type,
    cluster
from {{ ref('dim_providers') }}
