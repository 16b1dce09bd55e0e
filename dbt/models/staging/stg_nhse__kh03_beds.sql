-- KH03 average daily beds per trust and quarter, with occupied general and acute bed days:
-- the average occupied beds times the days in the quarter (NHS England's definition).
select
    organisation_code,
    organisation_name,
    region_code,
    quarter_label,
    cast(period_start as date) as period_start,
    date_diff('day', cast(period_start as date), cast(period_start as date) + interval 3 month)
        as days_in_quarter,
    available_general_acute,
    occupied_general_acute,
    occupied_general_acute
        * date_diff('day', cast(period_start as date), cast(period_start as date) + interval 3 month)
        as occupied_bed_days,
    source_file
from {{ source('raw', 'kh03_beds') }}
