"""Publishing, by reader.

- `observatories/`: the read-only warehouse file and Parquet copies the regional quality
  observatories query, with the data dictionary inside them, and `qa query`.
- `document/`: one provider's Quality Account for one year, from the published tables and
  the provider's own words, as the data its template renders, its CSV tables and its PDF.
- `charts/`: the figures drawn inside a document and on the region pages.
- `portal/`: the site providers download from (index, provider and region pages, the
  observatories' documentation page), how it is rendered and how it is served.

`assets.py` ties them to Dagster; `files.py` (atomic writes), `figures.py` (the one rounding
rule) and `names.py` (provider names as providers write them) serve every reader.
"""
