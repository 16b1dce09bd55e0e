select
    cast(publication as date) as publication,
    provider_code,
    provider_name,
    spells,
    observed,
    expected,
    published_shmi,
    published_lower_limit,
    published_upper_limit,
    published_banding,
    source_file,
    row_number
from {{ source('raw', 'shmi') }}
