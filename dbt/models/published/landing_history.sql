-- Every file delivered to landing, in arrival order, and what became of its rows.
select
    feed,
    table_name,
    source_file,
    sha256,
    file_kind,
    arrival_order,
    status,
    rows_in,
    rows_loaded,
    records_quarantined,
    rows_superseded,
    superseded_by,
    note
from {{ landing_files_parquet() }}
