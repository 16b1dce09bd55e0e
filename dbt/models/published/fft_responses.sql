-- Friends and Family Test counts as NHS England may publish them: every provider, month and
-- answer, with the totals beside them (month 'ALL' is the year, answer 'ALL' is total
-- responses, provider 'ALL' is the region). Suppressed cells are NULL.
select
    financial_year,
    setting,
    region_code,
    provider_code,
    month,
    answer,
    cast(published_count as integer) as responses,
    suppressed
from {{ ref('int_fft__disclosure') }}
