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
    select financial_year, provider_code, 'mrsa_count', total_cases, null,
        'All cases reported by the trust'
    from hcai where organism = 'mrsa' and total_cases is not null
    union all
    select financial_year, provider_code,
        case organism when 'mssa' then 'mssa_rate' else 'ecoli_rate' end,
        hospital_onset, beds.occupied_bed_days, 'Hospital-onset cases'
    from hcai left join beds using (provider_code, financial_year)
    where organism in ('mssa', 'e_coli') and hospital_onset is not null
),

incident_years as (
    select
        financial_year,
        provider_code,
        count(*) as incidents,
        count(*) filter (where severe_or_death) as severe,
        count(*) filter (where never_event) as never_events
    from {{ ref('stg_provider__incidents') }}
    group by all
),

safety as (
    select financial_year, provider_code, 'incident_rate' as indicator_code,
        incidents as numerator, beds.occupied_bed_days as denominator,
        'Incidents reported' as note
    from incident_years left join beds using (provider_code, financial_year)
    union all
    select financial_year, provider_code, 'severe_harm_count', severe, null,
        'Severe harm or death'
    from incident_years
    union all
    select financial_year, provider_code, 'severe_harm_pct', severe, incidents,
        'Severe harm or death among incidents reported'
    from incident_years
    union all
    select financial_year, provider_code, 'never_events', never_events, null, 'Never Events'
    from incident_years
    union all
    select financial_year, provider_code, 'vte_assessed_pct', sum(risk_assessed), sum(admitted),
        count(*) || ' of 4 quarters'
    from {{ ref('stg_provider__vte_assessments') }}
    group by all
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

outcomes as (
    select financial_year, provider_code,
        case age_group when '0-15' then 'readmission_28d_0_15_pct'
            else 'readmission_28d_16plus_pct' end as indicator_code,
        readmissions_28d as numerator, discharges as denominator, 'Discharges in the year' as note
    from {{ ref('stg_nhs__readmissions') }}
),

counted as (
    select * from infection
    union all select * from safety
    union all select * from experience
    union all select * from outcomes
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
            || ' (SHMI published ' || strftime(publication, '%B %Y') || ')' as note
    from {{ ref('int_shmi__financial_year') }}
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
union all select * from proms
