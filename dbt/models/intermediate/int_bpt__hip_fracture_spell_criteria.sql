-- Fragility hip fracture: each criterion of the year's rules for each spell, and its outcome.
--   within hours (surgery_within_36h, orthogeriatric_within_72h): the elapsed time from
--     arrival, in real hours across clock changes (stg_nhfd__hip_fracture_spells), at most
--     the threshold: 36 hours 0 minutes meets it, 36 hours 1 minute does not.
--   recorded (joint_care, geriatrician_rehabilitation, falls_assessment,
--     bone_health_assessment, amts_pre_op, amts_post_op): the spell's flag is Y.
-- Outcome: met; late (waited longer); before arrival (a time recorded before arrival);
-- not done (flag N); not recorded (blank); set aside (validation set the value aside).
-- Only met meets the criterion.
with spells as (
    select * from {{ ref('stg_nhfd__hip_fracture_spells') }}
),

units as (
    select * from {{ ref('int_bpt__units') }}
    where bpt_code = 'hip_fracture'
),

thresholds as (
    select * from {{ ref('bpt_thresholds') }}
    where bpt_code = 'hip_fracture'
),

assembled as (
    select
        s.financial_year,
        s.provider_code,
        s.spell_id,
        t.criterion_code,
        t.criterion_order,
        t.criterion,
        t.comparison,
        t.threshold,
        case t.criterion_code
            when 'surgery_within_36h' then s.seconds_to_surgery
            when 'orthogeriatric_within_72h' then s.seconds_to_orthogeriatric_assessment
        end as seconds,
        case t.criterion_code
            when 'joint_care' then s.joint_care
            when 'geriatrician_rehabilitation' then s.geriatrician_rehabilitation
            when 'falls_assessment' then s.falls_assessment
            when 'bone_health_assessment' then s.bone_health_assessment
            when 'amts_pre_op' then s.amts_pre_op
            when 'amts_post_op' then s.amts_post_op
        end as flag,
        case t.criterion_code
            when 'surgery_within_36h' then 'surgery'
            when 'orthogeriatric_within_72h' then 'orthogeriatric_assessment'
            else t.criterion_code
        end as raw_column,
        s.set_aside
    from spells as s
    inner join units as u
        on s.financial_year = u.financial_year and s.provider_code = u.provider_code
    inner join thresholds as t on s.financial_year = t.financial_year
),

flagged as (
    select
        *,
        list_contains(string_split(coalesce(set_aside, ''), ','), raw_column) as is_set_aside
    from assembled
)

select
    financial_year,
    provider_code,
    spell_id,
    criterion_code,
    criterion_order,
    criterion,
    case
        when criterion_code not in (
            'surgery_within_36h', 'orthogeriatric_within_72h', 'joint_care',
            'geriatrician_rehabilitation', 'falls_assessment', 'bone_health_assessment',
            'amts_pre_op', 'amts_post_op'
        ) or comparison not in ('within hours', 'recorded')
            then error('Criterion ' || criterion_code || ' (' || comparison || ') of hip_fracture in '
                || financial_year || ' (seeds/bpt_thresholds.csv) has no rule in '
                || 'int_bpt__hip_fracture_spell_criteria')
        when comparison = 'within hours' and seconds is null and is_set_aside then 'set aside'
        when comparison = 'within hours' and seconds is null then 'not recorded'
        when comparison = 'within hours' and seconds < 0 then 'before arrival'
        when comparison = 'within hours' and seconds <= threshold * 3600 then 'met'
        when comparison = 'within hours' then 'late'
        when flag then 'met'
        when not flag then 'not done'
        when is_set_aside then 'set aside'
        else 'not recorded'
    end as outcome,
    seconds / 3600.0 as hours
from flagged
