-- VTE risk assessment per provider and quarter (`2024-25 Q1`: the financial year is its first
-- seven characters). The project's extract has a row per quarter; NHS England's publication a
-- row per month, whose counts add up to the quarter's. A quarter delivered twice keeps the
-- later file's figures, all of them from that one file (never months of two files mixed).
with latest_file as (
    select
        *,
        max(source_file) over (partition by organisation_code, quarter) as latest_source
    from {{ source('raw', 'vte_assessments') }}
),

rows_of_quarter as (
    select *
    from latest_file
    where source_file = latest_source
    qualify row_number() over (
        partition by organisation_code, quarter, month order by row_number desc
    ) = 1
)

select
    organisation_code as provider_code,
    quarter,
    left(quarter, 7) as financial_year,
    sum(admitted)::bigint as admitted,
    sum(risk_assessed)::bigint as risk_assessed,
    min(source_file) as source_file
from rows_of_quarter
group by organisation_code, quarter
