-- Every provider that appears in any feed, named and placed in a region from the ODS
-- extracts where one covers it; otherwise named from the feeds themselves (PartLink, then
-- the latest SHMI publication) and placed in UNKNOWN.
-- England is the provider ENG in region ENG.
with codes as (
    select distinct provider_code from {{ ref('stg_proms__records') }}
    union
    select distinct provider_code from {{ ref('stg_proms__participation') }}
    where provider_code <> 'ENG'
    union
    select distinct provider_code from {{ ref('stg_shmi__trusts') }}
),

partlink_names as (
    select provider_code, provider_name
    from {{ ref('stg_proms__participation') }}
    qualify row_number() over (
        partition by provider_code order by financial_year desc, source_file desc
    ) = 1
),

shmi_names as (
    select provider_code, provider_name
    from {{ ref('stg_shmi__trusts') }}
    qualify row_number() over (partition by provider_code order by publication desc) = 1
),

ods as (
    select * from {{ ref('stg_ods__organisations') }}
),

regions as (
    select * from {{ ref('nhs_regions') }}
)

select
    codes.provider_code,
    coalesce(
        ods.organisation_name,
        partlink_names.provider_name,
        shmi_names.provider_name,
        codes.provider_code
    )
        as provider_name,
    coalesce(regions.region_code, 'UNKNOWN') as region_code,
    coalesce(regions.region_name, 'Region not known') as region_name,
    case when length(codes.provider_code) = 3 then 'NHS trust'
        else 'Independent sector provider' end as provider_type,
    case
        when ods.organisation_name is not null then 'ODS extract'
        when partlink_names.provider_name is not null then 'PROMs PartLink'
        when shmi_names.provider_name is not null then 'SHMI'
        else 'code only'
    end as name_source
from codes
left join ods on codes.provider_code = ods.organisation_code
left join partlink_names on codes.provider_code = partlink_names.provider_code
left join shmi_names on codes.provider_code = shmi_names.provider_code
left join regions on ods.national_grouping = regions.region_code
union all
select 'ENG', 'England', 'ENG', 'England', 'country', 'fixed'
