-- XmR (individuals) charts as NHS England's Making Data Count reads them, every rule's
-- parameter from seed spc_parameters: the mean of the series; process limits at the mean
-- +- 2.66 mean moving ranges (moving ranges above 3.267 mean moving ranges screened out);
-- special cause where a point is outside the limits, is part of a run of seven or more
-- points increasing or decreasing (a trend), is one of two out of three consecutive
-- points close to a limit (beyond two sigma) with all three on one side, or is part of a
-- run of seven or more points on one side of the mean (a shift), in that order of
-- precedence, as NHS-R's NHSRplotthedots applies them. A series with fewer points than
-- `minimum_points` gets no limits and no special cause. Each financial year's chart holds
-- the months up to that year's March only, as its Quality Account would have seen them.
with parameters as (
    select
        max(value) filter (where parameter = 'process_limit') as process_limit,
        max(value) filter (where parameter = 'near_limit') as near_limit,
        max(value) filter (where parameter = 'moving_range_screen') as screen,
        max(value) filter (where parameter = 'shift_points') as shift_points,
        max(value) filter (where parameter = 'trend_points') as trend_points,
        max(value) filter (where parameter = 'close_points') as close_points,
        max(value) filter (where parameter = 'close_window') as close_window,
        max(value) filter (where parameter = 'minimum_points') as minimum_points
    from {{ ref('spc_parameters') }}
),

ordered as (
    select
        s.*,
        row_number() over w as point_number,
        count(*) over (partition by s.provider_code, s.series_code, s.financial_year) as points,
        abs(s.value - lag(s.value) over w) as moving_range,
        sign(s.value - lag(s.value) over w) as step
    from {{ ref('int_spc__series') }} as s
    window w as (partition by s.provider_code, s.series_code, s.financial_year order by s.month)
),

centre as (
    select
        *,
        avg(value) over series as mean,
        avg(moving_range) over series as raw_mean_moving_range
    from ordered
    window series as (partition by provider_code, series_code, financial_year)
),

screened as (
    select
        c.*,
        -- A series that never moves (no MRSA case in any month) has a mean moving range
        -- of 0, which screening would otherwise leave empty.
        coalesce(
            avg(case when c.moving_range < p.screen * c.raw_mean_moving_range then c.moving_range end)
                over (partition by c.provider_code, c.series_code, c.financial_year),
            c.raw_mean_moving_range
        ) as mean_moving_range
    from centre as c
    cross join parameters as p
),

limits as (
    select
        s.*,
        s.points >= p.minimum_points as has_limits,
        s.mean - p.process_limit * s.mean_moving_range as lower_process_limit,
        s.mean + p.process_limit * s.mean_moving_range as upper_process_limit,
        s.mean - p.near_limit * s.mean_moving_range as lower_near_limit,
        s.mean + p.near_limit * s.mean_moving_range as upper_near_limit,
        cast(sign(s.value - s.mean) as integer) as side
    from screened as s
    cross join parameters as p
),

flagged as (
    select
        *,
        has_limits and (value > upper_process_limit or value < lower_process_limit) as outside,
        has_limits
            and not (value > upper_process_limit or value < lower_process_limit)
            and (value > upper_near_limit or value < lower_near_limit) as close_to_limit
    from limits
),

-- Runs: consecutive points on one side of the mean, and consecutive steps in one direction.
runs as (
    select
        *,
        point_number - row_number() over (
            partition by provider_code, series_code, financial_year, side order by month
        ) as side_run,
        point_number - row_number() over (
            partition by provider_code, series_code, financial_year, coalesce(step, 0) order by month
        ) as step_run
    from flagged
),

run_lengths as (
    select
        *,
        count(*) over (partition by provider_code, series_code, financial_year, side, side_run) as side_run_length,
        case when coalesce(step, 0) = 0 then 0 else
            count(*) over (partition by provider_code, series_code, financial_year, coalesce(step, 0), step_run)
        end as step_run_length
    from runs
),

patterns as (
    select
        r.*,
        -- A trend of n points is n - 1 steps one way: a point is in it if the step into it
        -- or the step out of it belongs to such a run; where both do (a peak between a
        -- rise and a fall), the step out of it gives the direction, as NHSRplotthedots.
        case
            when coalesce(lead(r.step_run_length) over w >= p.trend_points - 1, false)
                then lead(r.step) over w
            when r.step_run_length >= p.trend_points - 1 then r.step
        end as trend_direction,
        r.side != 0 and r.side_run_length >= p.shift_points as in_shift,
        -- Two of three close to a limit, all three on one side: any window of three
        -- consecutive points holding this one.
        r.close_to_limit and (
            (
                coalesce(lag(r.side, 2) over w = r.side and lag(r.side, 1) over w = r.side, false)
                and cast(lag(r.close_to_limit, 2) over w as integer)
                    + cast(lag(r.close_to_limit, 1) over w as integer) + 1 >= p.close_points
            )
            or (
                coalesce(lag(r.side) over w = r.side and lead(r.side) over w = r.side, false)
                and cast(lag(r.close_to_limit) over w as integer)
                    + cast(lead(r.close_to_limit) over w as integer) + 1 >= p.close_points
            )
            or (
                coalesce(lead(r.side, 1) over w = r.side and lead(r.side, 2) over w = r.side, false)
                and cast(lead(r.close_to_limit, 1) over w as integer)
                    + cast(lead(r.close_to_limit, 2) over w as integer) + 1 >= p.close_points
            )
        ) as in_two_of_three
    from run_lengths as r
    cross join parameters as p
    window w as (partition by r.provider_code, r.series_code, r.financial_year order by r.month)
)

select
    p.provider_code,
    p.series_code,
    p.financial_year,
    p.month,
    p.point_number,
    p.points,
    p.value,
    p.mean,
    p.mean_moving_range,
    p.has_limits,
    case when p.has_limits then p.lower_process_limit end as lower_process_limit,
    case when p.has_limits then p.upper_process_limit end as upper_process_limit,
    case
        when not p.has_limits then null
        when p.outside then case when p.side > 0 then 'above upper limit' else 'below lower limit' end
        when p.trend_direction is not null then
            case when p.trend_direction > 0 then 'trend increasing' else 'trend decreasing' end
        when p.in_two_of_three then
            case when p.side > 0 then 'two of three close to upper limit'
                else 'two of three close to lower limit' end
        when p.in_shift then
            case when p.side > 0 then 'shift above mean' else 'shift below mean' end
        else 'common cause'
    end as special_cause,
    case
        when not p.has_limits then 0
        when p.outside then p.side
        when p.trend_direction is not null then p.trend_direction
        when p.in_two_of_three or p.in_shift then p.side
        else 0
    end as special_cause_direction
from patterns as p
