{#-
    The `replace_changed` incremental strategy: delete+insert on the key, for the keys whose rows
    changed only. The models incremental by day or by key (incremental_by_date.sql,
    incremental_by_key.sql) re-select every key a new day can change: the days of the lookback,
    the users with a recent signup, subscription or invoice. On a nightly run most of those
    re-selected rows are the same as the stored ones. Deleting and inserting them again cost
    more than selecting them: the insert compresses and writes them, and the next checkpoint
    compacts the row groups the delete left holes in (vacuum). At 1M users, replacing only the
    keys that changed took the SQL of a nightly build, on one dbt thread, from 12.4 s to 11.5 s.

    So the new rows and the stored rows of the re-selected keys are compared first, key by key,
    by a fingerprint of each key's rows: their count and the sum of one 64-bit hash per row
    (the sum makes it independent of row order and keeps duplicate rows). A key whose
    fingerprint differs, or that is not stored yet, has its rows deleted and inserted as
    delete+insert would; the rows of the other keys stay where they are. The table ends up as
    delete+insert leaves it, unless a changed key's rows hash to the same sum as before: about
    one chance in 2^64 per changed key. A key with no re-selected rows is left alone, as with
    delete+insert.

    A model whose key re-selects many rows, of which a night changes only some, can name the
    columns that tell a key's rows apart (config `row_key`, one column or a list): each
    re-selected key's rows are then compared and replaced one by one, by (key, row key).
    int_paid_customer_months re-selects whole months (mrr_month) but replaces only the customers
    (user_id) whose row changed: the current month's rows are mostly the same each night, and
    deleting all of them left the checkpoint 0.35 s of merging row groups at 1M users. A stored
    row of a re-selected key whose row key is not re-selected any more is deleted, as the
    key's delete+insert would.

    DuckDB only (hash() and the HUGEINT sum); other engines fall back to delete+insert.
-#}
{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {{ return(adapter.dispatch('replace_changed_sql', 'jobmetrics')(arg_dict)) }}
{%- endmacro %}

{% macro default__replace_changed_sql(arg_dict) -%}
    {{ return(get_incremental_delete_insert_sql(arg_dict)) }}
{%- endmacro %}

{% macro duckdb__replace_changed_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- if key is not string -%}
        {{ exceptions.raise_compiler_error(
            "incremental strategy replace_changed takes one key column, got " ~ key
            ~ " for " ~ target
        ) }}
    {%- endif -%}
    {%- set row_key = config.get('row_key') or [] -%}
    {#- what is compared and replaced: the key alone, or each of its rows by (key, row key) -#}
    {%- set compared = [key] + ([row_key] if row_key is string else row_key) -%}
    {%- set compared_csv = compared | join(', ') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set predicates = arg_dict['incremental_predicates'] or [] -%}
    {%- set changed = adapter.quote(source.identifier ~ '__changed') -%}

    {#- the new rows of every re-selected key, and the stored rows of those keys -#}
    {%- set sides = [
        ('selected', source, ['true']),
        ('stored', target, [key ~ ' in (select ' ~ key ~ ' from ' ~ source ~ ')'] + predicates),
    ] %}

    create temporary table {{ changed }} as
    with
    {% for side, relation, conditions in sides %}
    {{ side }} as (
        -- the fingerprint of each key's rows (or each row's): how many, the sum of their hashes
        select
            {{ compared_csv }},
            {{ incremental_rows_fingerprint(columns) }}
        from {{ relation }}
        where {{ conditions | join(' and ') }}
        group by {{ compared_csv }}
    ){{ ',' if not loop.last }}
    {% endfor %}
    -- new, changed, or (with a row key) no longer selected
    select
        {%- for column in compared %}
        coalesce(selected.{{ column }}, stored.{{ column }}) as {{ column }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from selected
    full outer join stored
        on
        {%- for column in compared %}
            {{ 'and ' if not loop.first }}selected.{{ column }} = stored.{{ column }}
        {%- endfor %}
    where
        selected.row_count is null
        or stored.row_count is null
        or selected.row_count != stored.row_count
        or selected.rows_hash != stored.rows_hash;

    delete from {{ target }}
    where
        ({{ compared_csv }}) in (select {{ compared_csv }} from {{ changed }})
        {%- for predicate in predicates %}
        and {{ predicate }}
        {%- endfor %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
    where ({{ compared_csv }}) in (select {{ compared_csv }} from {{ changed }});

    drop table {{ changed }}
{%- endmacro %}

{% macro incremental_rows_fingerprint(columns) -%}
    {#- The fingerprint of a group of rows, as two aggregate columns: how many rows, and the sum
        of one 64-bit hash per row over `columns` (SQL, comma-separated). The sum is the same
        whatever the rows' order, and counts duplicate rows; DuckDB only (hash(), HUGEINT sum).
        Also compares the months of a monthly model's input (incremental_input_months.sql). -#}
    count(*) as row_count, sum(hash({{ columns }})) as rows_hash
{%- endmacro %}
