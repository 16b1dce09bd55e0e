-- Every file delivered to landing, in arrival order, and what became of its rows; files no
-- feed reads (at the top of landing, or in no feed's folder) as ignored, written by ingest.
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
