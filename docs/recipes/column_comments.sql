-- What a column means: the descriptions from the dbt YAML are stored as column comments.
select
    table_name,
    column_name,
    data_type,
    comment
from duckdb_columns()
where table_name like 'fct_mrr%' and comment is not null
order by table_name, column_index;
