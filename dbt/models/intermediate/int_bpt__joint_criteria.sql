-- Primary hip and knee replacement: each criterion of the year's rules for each provider-year,
-- with the threshold, what was observed, whether it was met and why, in words.
--
--   proms_participation         PartLink participation (pre-op questionnaires / HES
--                               procedures) of the PROMs year >= threshold.
--   proms_not_negative_outlier  Oxford score adjusted health gain of the primary group in the
--                               PROMs year is not a negative outlier at the tariff's level or
--                               beyond (99.8%: only 'Negative outlier (99.8%)' counts; 95%:
--                               both). Observed is the adjusted health gain and threshold the
--                               lower control limit at that level, in Oxford score points.
--                               Fewer than 30 modelled records or none: not an outlier.
--   njr_compliance              NJR compliance >= threshold.
--   njr_consent_not_recorded    NJR consent not recorded < threshold.
--   cemented_over_70            cemented or hybrid prostheses over 70 >= threshold.
-- Where PartLink suppresses the provider's primary counts in the PROMs year (1 to 5
-- procedures) neither PROMs criterion can be assessed: not met, "participation not
-- published". Missing figures are not met, and the reason says which are missing.
with units as (
    select * from {{ ref('int_bpt__units') }}
    where unit = 'provider-year'
),

schemes as (
    select * from {{ ref('bpt_schemes') }}
),

thresholds as (
    select * from {{ ref('bpt_thresholds') }}
),

participation as (
    select * from {{ ref('fct_proms_participation') }}
),

outcomes as (
    select * from {{ ref('fct_proms_outcomes') }}
    where subgroup = 'Primary' and measure_code = 'oxford'
),

limits as (
    select * from {{ ref('proms_outlier_limits') }}
),

parameters as (
    select
        max(value) filter (where parameter = 'min_modelled_records') as min_records,
        max(value) filter (where parameter = 'min_unsuppressed_hes_procedures')
            as min_unsuppressed
    from {{ ref('proms_parameters') }}
),

njr as (
    select * from {{ ref('stg_njr__compliance') }}
),

assembled as (
    select
        u.financial_year,
        u.provider_code,
        u.bpt_code,
        u.proms_financial_year,
        u.negative_outlier_level,
        s.joint,
        t.criterion_code,
        t.criterion_order,
        t.criterion,
        t.comparison,
        t.threshold as seed_threshold,
        p.provider_code is not null as has_partlink,
        coalesce(p.hes_procedures_suppressed, false) as proms_suppressed,
        p.hes_procedures,
        p.pre_op_questionnaires,
        p.participation_rate,
        o.outlier_status,
        o.adjusted_health_gain,
        o.modelled_records,
        case u.negative_outlier_level
            when '99.8%' then o.lower_limit_998
            when '95%' then o.lower_limit_95
        end as lower_limit,
        status_level.z as status_z,
        tariff_level.z as tariff_z,
        n.provider_code is not null as has_njr,
        n.compliance,
        n.consent_not_recorded,
        n.cemented_over_70,
        parameters.min_records,
        parameters.min_unsuppressed
    from units as u
    inner join schemes as s on u.bpt_code = s.bpt_code
    inner join thresholds as t
        on u.financial_year = t.financial_year and u.bpt_code = t.bpt_code
    left join participation as p
        on u.proms_financial_year = p.financial_year
        and u.provider_code = p.provider_code
        and s.partlink_procedure = p.procedure
    left join outcomes as o
        on u.proms_financial_year = o.financial_year
        and u.provider_code = o.provider_code
        and s.joint = o.joint
    left join limits as status_level
        on o.outlier_status = 'Negative outlier (' || status_level.limit_level || ')'
    left join limits as tariff_level
        on u.negative_outlier_level = tariff_level.limit_level
    left join njr as n
        on u.financial_year = n.financial_year and u.provider_code = n.provider_code
    cross join parameters
),

observed as (
    select
        *,
        case criterion_code
            when 'proms_participation' then participation_rate
            when 'proms_not_negative_outlier' then adjusted_health_gain
            when 'njr_compliance' then compliance
            when 'njr_consent_not_recorded' then consent_not_recorded
            when 'cemented_over_70' then cemented_over_70
            else error('Criterion ' || criterion_code || ' of ' || bpt_code || ' in '
                || financial_year || ' (seeds/bpt_thresholds.csv) has no rule in int_bpt__joint_criteria')
        end as observed_value,
        case when criterion_code = 'proms_not_negative_outlier' then lower_limit
            else seed_threshold end as threshold_value,
        criterion_code in ('proms_participation', 'proms_not_negative_outlier') as is_proms,
        criterion_code like 'njr_%' or criterion_code = 'cemented_over_70' as is_njr
    from assembled
),

judged as (
    select
        *,
        case
            when criterion_code = 'proms_not_negative_outlier' and tariff_z is null
                then error('Negative outlier level ' || coalesce(negative_outlier_level, 'blank')
                    || ' of ' || bpt_code || ' in ' || financial_year
                    || ' (seeds/bpt_tariffs.csv) is not a level of seeds/proms_outlier_limits.csv')
            when is_proms and proms_suppressed then false
            when criterion_code = 'proms_not_negative_outlier'
                then status_z is null or status_z < tariff_z
            when observed_value is null then false
            when comparison = 'at least' then observed_value >= seed_threshold
            when comparison = 'below' then observed_value < seed_threshold
            else error('Comparison ' || comparison || ' of ' || criterion_code
                || ' (seeds/bpt_thresholds.csv) has no rule in int_bpt__joint_criteria')
        end as met,
        -- Percentages for the reasons by the documents' one rounding rule (macro
        -- percent_text): one decimal place, half away from zero, and a figure that would
        -- round onto its threshold from the other side keeps the decimals that show the
        -- side: 0.8499 against 85% is 84.99%, never 85.0%.
        {{ percent_text('seed_threshold') }} as threshold_text,
        {{ percent_text('observed_value', 'seed_threshold') }} as observed_text
    from observed
),

requirements as (
    select
        *,
        case comparison
            when 'at least' then 'at least ' || threshold_text || ' needed'
            when 'below' then 'below ' || threshold_text || ' needed'
        end as requirement
    from judged
)

select
    financial_year,
    provider_code,
    bpt_code,
    criterion_code,
    criterion_order,
    criterion,
    case when is_proms and proms_suppressed and criterion_code = 'proms_not_negative_outlier'
        then null else threshold_value end as threshold,
    case when is_proms and proms_suppressed then null else observed_value end as observed,
    met,
    criterion || ': ' || case
        when is_proms and proms_suppressed
            then 'participation not published for ' || proms_financial_year
                || ' (PartLink suppresses counts of 1 to ' || cast(min_unsuppressed - 1 as integer)
                || ' procedures), so it cannot be assessed'
        when criterion_code = 'proms_participation' and not has_partlink
            then 'participation not published for ' || proms_financial_year
                || ' (no PartLink row for this provider)'
        when criterion_code = 'proms_participation' and pre_op_questionnaires is null
            then 'pre-operative questionnaires not published for ' || proms_financial_year
                || ' (PartLink suppresses counts of 1 to ' || cast(min_unsuppressed - 1 as integer)
                || '), so participation cannot be assessed'
        when criterion_code = 'proms_participation'
            then format('{:,}', pre_op_questionnaires) || ' pre-operative questionnaires for '
                || format('{:,}', hes_procedures) || ' eligible procedures in '
                || proms_financial_year || ' (' || observed_text || '); ' || requirement
        when criterion_code = 'proms_not_negative_outlier' and outlier_status is null
            then 'no PROMs records in ' || proms_financial_year
        when criterion_code = 'proms_not_negative_outlier'
            and outlier_status in ('No procedures', 'Insufficient records')
            then outlier_status || ' in ' || proms_financial_year || ' ('
                || modelled_records || ' modelled records; ' || cast(min_records as integer)
                || ' are needed for an outlier test)'
        when criterion_code = 'proms_not_negative_outlier'
            then 'adjusted health gain ' || printf('%.2f', adjusted_health_gain)
                || ' in ' || proms_financial_year || ', lower ' || negative_outlier_level
                || ' limit ' || printf('%.2f', lower_limit) || ': ' || outlier_status
                || case
                    when met and status_z is not null
                        then ' (only a negative outlier at ' || negative_outlier_level
                            || ' or beyond counts)'
                    else ''
                end
        when is_njr and not has_njr
            then 'no National Joint Registry figures for ' || financial_year
        when observed_value is null
            then 'not reported for ' || financial_year
        else observed_text || ' in ' || financial_year || '; ' || requirement
    end as reason
from requirements
