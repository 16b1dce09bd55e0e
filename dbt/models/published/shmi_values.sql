-- The indicator issue's view of SHMI: the same rows as `shmi`, under the names every
-- indicator table uses (value, lower_95, upper_95).
select
    publication,
    period_end,
    provider_code,
    region_code,
    spells,
    observed_deaths,
    expected_deaths,
    shmi as value,
    lower_limit_95 as lower_95,
    upper_limit_95 as upper_95,
    banding,
    palliative_care_deaths_pct
from {{ ref('shmi') }}
