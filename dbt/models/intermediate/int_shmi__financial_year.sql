-- SHMI for a financial year is the publication whose twelve months end in March of that
-- year (each publication's period end is in stg_shmi__trusts). A year whose publication is
-- absent has no SHMI value (it is not borrowed from a neighbouring publication).
select
    shmi.*,
    (year(shmi.period_end_month) - 1) || '-'
        || lpad(cast(year(shmi.period_end_month) % 100 as varchar), 2, '0') as financial_year
from {{ ref('fct_shmi') }} as shmi
where month(shmi.period_end_month) = 3
