-- Each cell withheld from the publication and why: primary (a count of 1 to 4) or secondary
-- (suppressed so a primary cell cannot be worked out from the totals beside it).
select
    'fft_responses' as table_name,
    financial_year,
    setting,
    region_code,
    provider_code,
    month,
    answer,
    suppression,
    case suppression
        when 'primary' then 'count between 1 and 4'
        else 'protects a suppressed cell in the same total'
    end as reason
from {{ ref('int_fft__disclosure') }}
where suppressed
