-- The units each best practice tariff is assessed on, with the tariff of their year.
--   * Primary hip and knee replacement: one provider-year per PartLink primary procedure
--     with eligible activity (HES procedures above 0, or suppressed by PartLink: 1 to 5).
--     Eligible spells are PartLink's HES procedures of the activity year; NULL where
--     PartLink suppresses them.
--   * Fragility hip fracture: one provider-year per provider with spells in the year (the
--     financial year of arrival); every spell is eligible.
-- Activity before a tariff began (its earliest year in seed bpt_tariffs: 2014-15 for hip and
-- knee, 2010-11 for hip fracture) is not assessed. From then on the activity year picks the
-- tariff (seed bpt_tariffs) and the criteria (seed bpt_thresholds); a year with no tariff or
-- no criteria stops the build with an error naming the year and the tariff: paying a year on
-- another year's rules, or on none, would be wrong.
with tariffs as (
    select * from {{ ref('bpt_tariffs') }}
),

schemes as (
    -- A tariff's first year is its earliest row in seed bpt_tariffs.
    select s.*, f.first_year
    from {{ ref('bpt_schemes') }} as s
    inner join (
        select bpt_code, min(financial_year) as first_year from tariffs group by all
    ) as f on s.bpt_code = f.bpt_code
),

partlink as (
    select * from {{ ref('fct_proms_participation') }}
    where provider_code <> 'ENG'
),

spells as (
    select financial_year, provider_code, count(*) as spells
    from {{ ref('stg_nhfd__hip_fracture_spells') }}
    group by all
),

units as (
    select
        p.financial_year,
        p.provider_code,
        s.bpt_code,
        s.unit,
        case when p.hes_procedures_suppressed then null else p.hes_procedures end
            as eligible_spells,
        coalesce(p.hes_procedures_suppressed, false) as eligible_spells_suppressed
    from partlink as p
    inner join schemes as s on p.procedure = s.partlink_procedure
    where s.unit = 'provider-year'
        and p.financial_year >= s.first_year
        and (p.hes_procedures > 0 or p.hes_procedures_suppressed)
    union all
    select spells.financial_year, spells.provider_code, s.bpt_code, s.unit, spells.spells, false
    from spells
    inner join schemes as s on s.unit = 'spell' and spells.financial_year >= s.first_year
),

criteria as (
    select financial_year, bpt_code, count(*) as criteria
    from {{ ref('bpt_thresholds') }}
    group by all
)

select
    u.financial_year,
    u.provider_code,
    u.bpt_code,
    u.unit,
    cast(u.eligible_spells as integer) as eligible_spells,
    u.eligible_spells_suppressed,
    t.base_price,
    case
        when t.bpt_code is null then error(
            'No best practice tariff for ' || u.bpt_code || ' in ' || u.financial_year
            || ': seeds/bpt_tariffs.csv has no row for that year (activity of provider '
            || u.provider_code || ')'
        )
        when c.criteria is null then error(
            'No best practice tariff criteria for ' || u.bpt_code || ' in ' || u.financial_year
            || ': seeds/bpt_thresholds.csv has no row for that year'
        )
        else t.top_up
    end as top_up,
    t.negative_outlier_level,
    t.proms_financial_year
from units as u
left join tariffs as t
    on u.financial_year = t.financial_year and u.bpt_code = t.bpt_code
left join criteria as c
    on u.financial_year = c.financial_year and u.bpt_code = c.bpt_code
