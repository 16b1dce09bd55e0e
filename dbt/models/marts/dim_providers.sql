-- Every provider that appears in any feed, named and placed in a region from the ODS
-- extracts where one covers it; otherwise named from the feeds themselves (PartLink, then
-- the latest SHMI publication, KH03), placed in its KH03 region where ODS does not place
-- it, else in UNKNOWN.
-- A provider is an NHS trust if the ODS trust extract lists it or its code has 3 characters;
-- otherwise an independent-sector provider (the comparator groups of the core indicators).
-- England is the provider ENG in region ENG.
with codes as (
    select distinct provider_code from {{ ref('stg_proms__records') }}
    union
    select distinct provider_code from {{ ref('stg_proms__participation') }}
    where provider_code <> 'ENG'
    union
    select distinct provider_code from {{ ref('stg_shmi__trusts') }}
    union
    select distinct organisation_code from {{ ref('stg_nhse__kh03_beds') }}
    where organisation_code <> 'ENG'
    union
    select distinct organisation_code from {{ ref('stg_ukhsa__hcai_counts') }}
    where organisation_type = 'acute_trust'
    union
    select distinct provider_code from {{ ref('int_indicators__observations') }}
    union
    select distinct provider_code from {{ ref('stg_njr__compliance') }}
    union
    select distinct provider_code from {{ ref('stg_nhfd__hip_fracture_spells') }}
),

kh03_latest as (
    select organisation_code, organisation_name, region_code
    from {{ ref('stg_nhse__kh03_beds') }}
    qualify row_number() over (partition by organisation_code order by period_start desc) = 1
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
        kh03_latest.organisation_name,
        codes.provider_code
    )
        as provider_name,
    coalesce(ods_region.region_code, kh03_region.region_code, 'UNKNOWN') as region_code,
    coalesce(ods_region.region_name, kh03_region.region_name, 'Region not known') as region_name,
    case when length(codes.provider_code) = 3 or ods.organisation_code is not null then 'NHS trust'
        else 'Independent sector provider' end as provider_type,
    case
        when ods.organisation_name is not null then 'ODS extract'
        when partlink_names.provider_name is not null then 'PROMs PartLink'
        when shmi_names.provider_name is not null then 'SHMI'
        when kh03_latest.organisation_name is not null then 'KH03'
        else 'code only'
    end as name_source,
    clusters.cluster
from codes
left join ods on codes.provider_code = ods.organisation_code
left join partlink_names on codes.provider_code = partlink_names.provider_code
left join shmi_names on codes.provider_code = shmi_names.provider_code
left join kh03_latest on codes.provider_code = kh03_latest.organisation_code
left join regions as ods_region on ods.national_grouping = ods_region.region_code
left join regions as kh03_region on kh03_latest.region_code = kh03_region.region_code
left join {{ ref('stg_nrls__clusters') }} as clusters on codes.provider_code = clusters.provider_code
union all
select 'ENG', 'England', 'ENG', 'England', 'country', 'fixed', null
