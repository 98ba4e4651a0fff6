"""The warehouse layer: the raw-folder check, dbt invocations, the safe build and swap, source
freshness, the dbt docs page, and the table-for-table comparison of two warehouses."""
