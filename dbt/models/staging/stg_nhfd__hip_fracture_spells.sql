-- Fragility hip fracture spells, one row each, with the times read as real instants.
--
-- The feed gives local wall-clock times in England (Europe/London). Waits are elapsed time,
-- so each time is interpreted in Europe/London: a spell that spans a clock change counts
-- the hours that really passed (26 October 2024 20:00 to 28 October 07:30 is 36.5 hours,
-- not 35.5). Two local times need a rule:
--   * the hour repeated when the clocks go back (01:00-01:59 on the last Sunday of October)
--     is read as the second of the two, Greenwich Mean Time;
--   * the hour skipped when the clocks go forward (01:00-01:59 on the last Sunday of March)
--     does not exist; such a time is read as Greenwich Mean Time, which is an hour later on
--     the summer clock (01:30 is taken as 02:30 British Summer Time).
-- Each such time is named in clock_change_note. The financial year is that of the local
-- date of arrival. Flags are Y (true) or N (false); blank is NULL, and `set_aside` names the
-- criteria validation set aside for the spell (their values are blank here).
with spells as (
    select
        spell_id,
        organisation_code as provider_code,
        try_cast(replace(arrival, 'T', ' ') as timestamp) as arrival_local,
        try_cast(replace(surgery, 'T', ' ') as timestamp) as surgery_local,
        try_cast(replace(orthogeriatric_assessment, 'T', ' ') as timestamp)
            as orthogeriatric_local,
        joint_care,
        geriatrician_rehabilitation,
        falls_assessment,
        bone_health_assessment,
        amts_pre_op,
        amts_post_op,
        coalesce(set_aside, '') as set_aside,
        source_file,
        row_number
    from {{ source('raw', 'hip_fracture_spells') }}
    where organisation_code <> 'ENG'
),

instants as (
    select
        *,
        timezone('Europe/London', arrival_local) as arrival_at,
        timezone('Europe/London', surgery_local) as surgery_at,
        timezone('Europe/London', orthogeriatric_local) as orthogeriatric_at
    from spells
),

notes as (
    select
        *,
        list_filter([
            {%- for column, label in [
                ('arrival', 'Arrival'),
                ('surgery', 'Surgery'),
                ('orthogeriatric', 'Orthogeriatric assessment'),
            ] %}
            case
                when timezone('Europe/London', {{ column }}_at) <> {{ column }}_local
                    then '{{ label }} ' || strftime({{ column }}_local, '%Y-%m-%d %H:%M')
                        || ' does not exist (the clocks went forward): read as GMT, '
                        || strftime(timezone('Europe/London', {{ column }}_at), '%H:%M') || ' BST'
                when timezone('Europe/London', {{ column }}_at - interval 1 hour) = {{ column }}_local
                    then '{{ label }} ' || strftime({{ column }}_local, '%Y-%m-%d %H:%M')
                        || ' falls in the hour repeated when the clocks went back: read as the'
                        || ' second, GMT'
            end{{ ',' if not loop.last }}
            {%- endfor %}
        ], lambda note: note is not null) as notes
    from instants
)

select
    spell_id,
    provider_code,
    case when month(arrival_local) >= 4
        then year(arrival_local) || '-' || lpad(((year(arrival_local) + 1) % 100)::varchar, 2, '0')
        else (year(arrival_local) - 1) || '-' || lpad((year(arrival_local) % 100)::varchar, 2, '0')
    end as financial_year,
    arrival_local,
    surgery_local,
    orthogeriatric_local,
    epoch(surgery_at) - epoch(arrival_at) as seconds_to_surgery,
    epoch(orthogeriatric_at) - epoch(arrival_at) as seconds_to_orthogeriatric_assessment,
    nullif(array_to_string(notes, '; '), '') as clock_change_note,
    case joint_care when 'Y' then true when 'N' then false end as joint_care,
    case geriatrician_rehabilitation when 'Y' then true when 'N' then false end
        as geriatrician_rehabilitation,
    case falls_assessment when 'Y' then true when 'N' then false end as falls_assessment,
    case bone_health_assessment when 'Y' then true when 'N' then false end
        as bone_health_assessment,
    case amts_pre_op when 'Y' then true when 'N' then false end as amts_pre_op,
    case amts_post_op when 'Y' then true when 'N' then false end as amts_post_op,
    nullif(set_aside, '') as set_aside,
    source_file,
    row_number
from notes
