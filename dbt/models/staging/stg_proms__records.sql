-- One row per PROMs record with each measure's pre-op, post-op and predicted value,
-- missing codes turned into NULL (EQ VAS 999; items coded 9 already leave the score blank).
select
    financial_year,
    provider_code,
    case procedure
        when 'Hip Replacement' then 'hip'
        when 'Knee Replacement' then 'knee'
    end as joint,
    revision_flag = 1 as is_revision,
    procedure || case when revision_flag = 1 then ' Revision' else ' Primary' end as procedure_group,
    cast(pre_oxford_score as double) as pre_oxford_score,
    cast(post_oxford_score as double) as post_oxford_score,
    oxford_predicted,
    pre_eq5d_index,
    post_eq5d_index,
    eq5d_index_predicted,
    cast(nullif(pre_eq_vas, 999) as double) as pre_eq_vas,
    cast(nullif(post_eq_vas, 999) as double) as post_eq_vas,
    eq_vas_predicted,
    set_aside,
    source_file,
    sha256,
    row_number
from {{ source('raw', 'proms_records') }}
