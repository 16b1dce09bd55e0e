-- Every indicator's raw observation per provider and financial year: the counts it is built
-- from (numerator, denominator) and, for SHMI and PROMs, the publisher's own limits and
-- verdict. Values are in the indicator's unit (seed indicator_catalogue: multiplier).
-- England's own rows are left out: national values are worked out over providers.
with catalogue as (
    select * from {{ ref('indicator_definitions') }}
),

beds as (
    select * from {{ ref('int_beds__annual') }} where quarters = 4
),

hcai as (
    select * from {{ ref('int_hcai__provider_year') }}
),

infection as (
    select financial_year, provider_code, 'cdi_rate' as indicator_code,
        trust_attributed as numerator, beds.occupied_bed_days as denominator,
        'Cases attributed to the trust: ' || attribution as note
    from hcai left join beds using (provider_code, financial_year)
    where organism = 'c_difficile' and trust_attributed is not null
    union all
    select financial_year, provider_code, 'cdi_count', trust_attributed, null,
        'Cases attributed to the trust: ' || attribution
    from hcai where organism = 'c_difficile' and trust_attributed is not null
    union all
    select financial_year, provider_code, 'mrsa_count', trust_assigned, null,
        case when trust_assigned is null
            then 'Not available: the data carry no post infection review assignment ('
                || total_cases || ' cases reported by the trust, not all of them the trust''s)'
            else 'Cases assigned to the trust after post infection review' end
    from hcai where organism = 'mrsa' and total_cases is not null
    union all
    select financial_year, provider_code,
        case organism when 'mssa' then 'mssa_rate' else 'ecoli_rate' end,
        hospital_onset, beds.occupied_bed_days, 'Hospital-onset cases'
    from hcai left join beds using (provider_code, financial_year)
    where organism in ('mssa', 'e_coli') and hospital_onset is not null
),

-- Incidents as NHS England's organisation reports count them: occurring in the year and
-- submitted by the year's cut-off (seed incident_periods). A year without a cut-off in the
-- seed counts nothing rather than a moving total.
incident_years as (
    select
        i.financial_year,
        i.provider_code,
        count(*) filter (where i.reported_date <= p.reported_by) as incidents,
        count(*) filter (where i.severe_or_death and i.reported_date <= p.reported_by) as severe,
        count(*) filter (where i.never_event and i.reported_date <= p.reported_by)
            as never_events,
        count(*) filter (where i.reported_date > p.reported_by) as late,
        any_value(strftime(p.reported_by, '%-d %B %Y')) as cut_off
    from {{ ref('stg_provider__incidents') }} as i
    inner join {{ ref('incident_periods') }} as p using (financial_year)
    group by all
),

safety as (
    select financial_year, provider_code, 'incident_rate' as indicator_code,
        incidents as numerator, beds.occupied_bed_days as denominator,
        'Incidents occurring in the year and reported by ' || cut_off
            || case when late > 0 then ' (' || late || ' reported later not counted)' else '' end
            as note
    from incident_years left join beds using (provider_code, financial_year)
    union all
    select financial_year, provider_code, 'severe_harm_count', severe, null,
        'Severe harm or death, reported by ' || cut_off
    from incident_years
    union all
    select financial_year, provider_code, 'severe_harm_pct', severe, incidents,
        'Severe harm or death among incidents reported by ' || cut_off
    from incident_years
    union all
    select financial_year, provider_code, 'never_events', never_events, null,
        'Never Events reported by ' || cut_off
    from incident_years
    union all
    -- A year of fewer than four quarters says which it covers.
    select financial_year, provider_code, 'vte_assessed_pct', sum(risk_assessed), sum(admitted),
        case when count(*) = 4 then 'All four quarters'
            else financial_year || ' ' || string_agg(right(quarter, 2), ', ' order by quarter)
                || ' only (' || count(*) || ' of 4 quarters)' end
    from {{ ref('stg_provider__vte_assessments') }}
    group by financial_year, provider_code
),

-- A year of FFT is built from the months NHS England publishes figures for: a month
-- suppressed as primary (1 to 4 responses) shows no percentage and is left out; a month
-- whose answers did not add up was set aside by validation and is not in the table.
fft_years as (
    select
        financial_year,
        provider_code,
        setting,
        count(*) as months,
        count(*) filter (where suppression = 'primary') as months_left_out,
        sum(very_good + good) filter (where suppression is distinct from 'primary') as positive,
        sum(poor + very_poor) filter (where suppression is distinct from 'primary') as negative,
        sum(total_responses) filter (where suppression is distinct from 'primary')
            as responses,
        sum(total_eligible) filter (where suppression is distinct from 'primary') as eligible,
        count(total_eligible) filter (where suppression is distinct from 'primary')
            as months_with_eligible
    from {{ ref('int_fft__disclosure') }}
    where level = 'provider'
    group by all
),

fft_notes as (
    select
        *,
        (months - months_left_out) || ' months' || case when months_left_out > 0
            then ' (' || months_left_out || ' with 1 to 4 responses left out, as NHS England '
                || 'publishes no figures for them)'
            else '' end as note
    from fft_years
),

experience as (
    select financial_year, provider_code, 'fft_' || setting || '_positive_pct' as indicator_code,
        positive as numerator, responses as denominator, note
    from fft_notes
    where responses > 0
    union all
    select financial_year, provider_code, 'fft_' || setting || '_negative_pct',
        negative, responses, note
    from fft_notes
    where responses > 0
    union all
    select financial_year, provider_code, 'fft_' || setting || '_response_rate',
        responses, eligible, note
    from fft_notes
    where months_with_eligible = months - months_left_out and eligible > 0
    union all
    select financial_year, provider_code, 'responsiveness', responsiveness, null,
        'Survey ' || survey_year
    from {{ ref('stg_nhs__inpatient_survey') }}
    where responsiveness is not null
    union all
    select financial_year, provider_code, 'staff_recommend_care_pct', recommend_care_pct, null,
        'Survey ' || survey_year
    from {{ ref('stg_nhs__staff_survey') }}
    where recommend_care_pct is not null
),

counted as (
    select * from infection
    union all select * from safety
    union all select * from experience
),

with_values as (
    select
        counted.financial_year,
        counted.provider_code,
        counted.indicator_code,
        cast(counted.numerator as double) as numerator,
        cast(counted.denominator as double) as denominator,
        case
            when catalogue.method in ('score_spread', 'objective', 'proportion_of_parent')
                then cast(counted.numerator as double)
            when counted.denominator > 0
                then counted.numerator / counted.denominator * catalogue.multiplier
        end as value,
        cast(null as varchar) as official_comparison,
        cast(null as double) as official_lower_95,
        cast(null as double) as official_upper_95,
        cast(null as double) as official_lower_998,
        cast(null as double) as official_upper_998,
        cast(null as double) as official_national,
        counted.note
    from counted
    inner join catalogue on counted.indicator_code = catalogue.indicator_code
    where counted.provider_code <> 'ENG'
),

shmi as (
    select
        financial_year,
        provider_code,
        'shmi' as indicator_code,
        cast(observed as double) as numerator,
        expected as denominator,
        shmi as value,
        banding as official_comparison,
        lower_limit_95 as official_lower_95,
        upper_limit_95 as official_upper_95,
        cast(null as double) as official_lower_998,
        cast(null as double) as official_upper_998,
        1.0 as official_national,
        'April ' || (year(period_end_month) - 1) || ' to March ' || year(period_end_month)
            || coalesce(' (SHMI published ' || strftime(publication, '%B %Y') || ')', '')
            || coalesce('; palliative care coded for '
                || printf('%.1f', {{ round_half_away('palliative_care_deaths_pct', 1) }})
                || '% of deaths', '') as note
    from {{ ref('int_shmi__financial_year') }}
),

-- NHS Digital's own indirectly standardised readmission percentage, never a crude rate of
-- ours: compared with England's figure from the same file by NHS Digital's 95% confidence
-- interval (above it: higher than expected; below it: lower).
readmissions as (
    select
        r.financial_year,
        r.provider_code,
        case r.age_group when '0-15' then 'readmission_30d_0_15_pct'
            else 'readmission_30d_16plus_pct' end as indicator_code,
        cast(r.numerator as double) as numerator,
        cast(r.denominator as double) as denominator,
        r.indicator_value as value,
        case
            when england.indicator_value is null then 'insufficient data'
            when r.lower_ci > england.indicator_value then 'higher than expected'
            when r.upper_ci < england.indicator_value then 'lower than expected'
            else 'as expected'
        end as official_comparison,
        r.lower_ci as official_lower_95,
        r.upper_ci as official_upper_95,
        cast(null as double) as official_lower_998,
        cast(null as double) as official_upper_998,
        england.indicator_value as official_national,
        'Discharges in the year, indirectly standardised by NHS Digital' as note
    from {{ ref('stg_nhs__readmissions') }} as r
    left join {{ ref('stg_nhs__readmissions') }} as england
        on england.provider_code = 'ENG'
        and england.financial_year = r.financial_year
        and england.age_group = r.age_group
    where r.provider_code <> 'ENG' and r.age_group in ('0-15', '16+')
),

proms as (
    select
        financial_year,
        provider_code,
        'proms_' || joint || '_' || case measure_code
            when 'oxford' then case joint when 'hip' then 'ohs' else 'oks' end
            when 'eq_vas' then 'eqvas'
            else measure_code
        end || '_gain' as indicator_code,
        cast(null as double) as numerator,
        cast(modelled_records as double) as denominator,
        adjusted_health_gain as value,
        case
            when is_suppressed or modelled_records = 0 or outlier_status = 'Insufficient records'
                then 'insufficient data'
            when outlier_status = 'Positive outlier (99.8%)' then 'higher than expected'
            when outlier_status = 'Negative outlier (99.8%)' then 'lower than expected'
            else 'as expected'
        end as official_comparison,
        lower_limit_95 as official_lower_95,
        upper_limit_95 as official_upper_95,
        lower_limit_998 as official_lower_998,
        upper_limit_998 as official_upper_998,
        england_adjusted_health_gain as official_national,
        'Procedures in the year (PROMs published about two years later)' as note
    from {{ ref('fct_proms_outcomes') }}
    where subgroup = 'Primary' and provider_code <> 'ENG'
)

select * from with_values
union all select * from shmi
union all select * from readmissions
union all select * from proms
