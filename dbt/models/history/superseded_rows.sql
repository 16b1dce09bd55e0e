-- Rows a later delivery replaced, kept as delivered: the answer to "what did the first issue
-- say?". In the warehouse only, never in the publication: the records are unsuppressed.
select
    table_name,
    source_file,
    sha256,
    row_number,
    period,
    superseded_by_file,
    superseded_by_sha256,
    record
from {{ superseded_rows_parquet() }}
