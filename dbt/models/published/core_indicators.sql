-- The statutory comparison for each core indicator: this year, last year, the national value,
-- and the highest and lowest among comparable providers (NHS trusts with NHS trusts,
-- independent sector with independent sector), with the data period the value describes.
-- Built from the published indicator_values, so a figure disclosure control withholds is
-- withheld here too, and never counts as anyone's highest or lowest.
with values as (
    select
        v.*,
        case when d.provider_type = 'NHS trust' then 'NHS trusts'
            else 'Independent sector providers' end as comparator_group,
        c.period_kind
    from {{ ref('indicator_values') }} as v
    inner join {{ ref('indicator_definitions') }} as c using (indicator_code)
    left join {{ ref('dim_providers') }} as d on v.provider_code = d.provider_code
    where c.core_indicator
),

ranges as (
    select
        financial_year,
        indicator_code,
        comparator_group,
        max(value) as highest_value,
        min(value) as lowest_value
    from values
    where value is not null
    group by all
)

select
    v.financial_year,
    v.provider_code,
    v.region_code,
    v.indicator_code,
    v.value,
    previous.value as previous_value,
    v.national_value,
    r.highest_value,
    r.lowest_value,
    v.comparator_group,
    case
        when v.period_kind = 'quarters' and v.note not like 'All four%' then v.note
        when v.period_kind in ('financial_year', 'quarters')
            then 'April ' || left(v.financial_year, 4) || ' to March '
            || (cast(left(v.financial_year, 4) as integer) + 1)
        when v.period_kind = 'proms' then 'Operations April ' || left(v.financial_year, 4) || ' to March '
            || (cast(left(v.financial_year, 4) as integer) + 1)
        else v.note
    end as period_label
from values as v
left join ranges as r using (financial_year, indicator_code, comparator_group)
left join values as previous
    on previous.provider_code = v.provider_code
    and previous.indicator_code = v.indicator_code
    and cast(left(previous.financial_year, 4) as integer) = cast(left(v.financial_year, 4) as integer) - 1
