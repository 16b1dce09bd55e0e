select
    provider_code,
    provider_name,
    region_code,
    region_name,
    provider_type
from {{ ref('dim_providers') }}
