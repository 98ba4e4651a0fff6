{#-
    Generic test (table level): every check declared on the table's columns, in one query over
    the table, so a table costs one dbt test node instead of one per column and check (each
    node costs dbt about 50 ms of Python; the SQL is one scan either way). A column declares
    its checks in YAML, next to its description:

        - name: price_usd
          config:
            meta:
              checks: [not_null, non_negative]

    Checks (NULLs pass every check except not_null, as in dbt's own tests):
      not_null                        no NULL
      unique                          no value twice (hash aggregate)
      no_duplicates                   no value twice, found by sorting (the same answer; about
                                      3.5x cheaper in CPU on tens of millions of ids)
      non_negative                    no value below zero
      accepted_values: [a, b]         no value outside the list
      between: {min_value, max_value} no value outside the inclusive range (either bound optional)
      later_than: other_column        no value at or before other_column (for example ended_at)
      null_when: "<SQL condition>"    NULL exactly when the condition holds
    On a source, every column's declared data_type is compared first with the type the engine
    reads (DESCRIBE), so a raw file written with another type, or without the column, fails
    naming both before a model converts it. `unique_combination`
    (an argument of the test) adds a key of several columns.

    A failing table returns no rows: the query raises one error listing every broken check by
    table, column and row count, for example
        raw_subscriptions.price_usd: 1 row below 0 (non_negative)
    which dbt prints as the test's error, in `dbt build` and in `jobmetrics build` alike.
-#}
{% test table_checks(model, unique_combination=none) %}

{%- set table = model.identifier -%}
{%- set columns = table_checks_columns(table) -%}
{%- set counts = [] -%}
{%- set sorted_keys = [] -%}
{%- set types = [] -%}
{%- for column in columns -%}
    {%- set name = column.name -%}
    {%- for check in column.checks -%}
        {%- set kind = check if check is string else (check.keys() | list)[0] -%}
        {%- set argument = none if check is string else check[kind] -%}
        {%- set label = table ~ '.' ~ name -%}
        {%- if kind == 'not_null' -%}
            {%- do counts.append((name ~ ' is null', label ~ ': {n} NULL (not_null)')) -%}
        {%- elif kind == 'unique' -%}
            {%- do sorted_keys.append((name, label ~ ': {n} repeating a value (unique)', 'hash')) -%}
        {%- elif kind == 'no_duplicates' -%}
            {%- do sorted_keys.append((name, label ~ ': {n} repeating a value (no_duplicates)', 'sort')) -%}
        {%- elif kind == 'non_negative' -%}
            {%- do counts.append((name ~ ' < 0', label ~ ': {n} below 0 (non_negative)')) -%}
        {%- elif kind == 'accepted_values' -%}
            {%- set quoted = [] -%}
            {%- for value in argument -%}
                {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
            {%- endfor -%}
            {%- do counts.append((
                name ~ ' not in (' ~ quoted | join(', ') ~ ')',
                label ~ ': {n} not in (' ~ argument | join(', ') ~ ') (accepted_values)'
            )) -%}
        {%- elif kind == 'between' -%}
            {%- set low = argument.get('min_value') -%}
            {%- set high = argument.get('max_value') -%}
            {%- set outside = [] -%}
            {%- if low is not none %}{% do outside.append(name ~ ' < ' ~ low) %}{% endif -%}
            {%- if high is not none %}{% do outside.append(name ~ ' > ' ~ high) %}{% endif -%}
            {%- do counts.append((
                outside | join(' or '),
                label ~ ': {n} outside [' ~ (low if low is not none else '') ~ ', '
                    ~ (high if high is not none else '') ~ '] (between)'
            )) -%}
        {%- elif kind == 'later_than' -%}
            {%- do counts.append((
                name ~ ' <= ' ~ argument,
                label ~ ': {n} not later than ' ~ argument ~ ' (later_than)'
            )) -%}
        {%- elif kind == 'null_when' -%}
            {%- do counts.append((
                '(' ~ argument ~ ') and ' ~ name ~ ' is not null or not (' ~ argument ~ ') and '
                    ~ name ~ ' is null',
                label ~ ': {n} not NULL exactly when ' ~ argument ~ ' (null_when)'
            )) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "table_checks: unknown check '" ~ kind ~ "' on " ~ label
                ~ " (known: not_null, unique, no_duplicates, non_negative, accepted_values,"
                ~ " between, later_than, null_when)"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if column.data_type -%}
        {%- do types.append((name, column.data_type | lower, table ~ '.' ~ name)) -%}
    {%- endif -%}
{%- endfor -%}
{#- Types first: a check on a column of another type would fail with a binder error instead. -#}
{%- if types and execute -%}
    {%- set actual = table_checks_column_types(model) -%}
    {%- set problems = [] -%}
    {%- for name, expected, label in types -%}
        {%- if name not in actual -%}
            {%- do problems.append(label ~ ' is missing') -%}
        {%- elif actual[name] != expected -%}
            {%- do problems.append(label ~ ' is ' ~ actual[name] ~ ', expected ' ~ expected) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(problems | join('; ')) }}
    {%- endif -%}
{%- endif %}

with

counted as (
    select
        0 as no_check
        {%- for condition, _ in counts %},
        sum(case when {{ condition }} then 1 else 0 end) as check_{{ loop.index }}
        {%- endfor %}
    from {{ model }}
),

{% for name, _, method in sorted_keys %}
repeated_{{ loop.index }} as (
    {%- if method == 'hash' %}
    select count({{ name }}) - count(distinct {{ name }}) as failing_rows
    from {{ model }}
    {%- else %}
    select count(*) as failing_rows
    from (
        select
            {{ name }} as key_value,
            lead({{ name }}) over (order by {{ name }}) as next_value
        from {{ model }}
        where {{ name }} is not null
    ) as ordered
    where key_value = next_value
    {%- endif %}
),

{% endfor %}
{%- if unique_combination %}
repeated_combinations as (
    select count(*) as failing_rows
    from (
        select 1 as repeated
        from {{ model }}
        group by {{ unique_combination | join(', ') }}
        having count(*) > 1
    ) as repeated_keys
),

{% endif %}
failures as (
    select
        'checks of {{ table }}' as failure,
        0 as failing_rows
    from counted
    {%- for _, message in counts %}
    union all
    select
        {{ table_checks_message(message, 'check_' ~ loop.index) }} as failure,
        check_{{ loop.index }} as failing_rows
    from counted
    {%- endfor %}
    {%- for _, message, _ in sorted_keys %}
    union all
    select
        {{ table_checks_message(message, 'failing_rows') }} as failure,
        failing_rows
    from repeated_{{ loop.index }}
    {%- endfor %}
    {%- if unique_combination %}
    union all
    select
        {{ table_checks_message(
            table ~ ': {n} of (' ~ unique_combination | join(', ')
                ~ ') more than once (unique_combination)',
            'failing_rows', unit='combination'
        ) }} as failure,
        failing_rows
    from repeated_combinations
    {%- endif %}
)

{{ table_checks_raise('failure', 'failing_rows > 0') }}

{% endtest %}


{#- The columns of the table under test with their `checks` (config.meta) and data_type. -#}
{% macro table_checks_columns(table) %}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- set candidates = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type in ('model', 'seed', 'snapshot')
                and (node.alias or node.name) == table -%}
                {%- do candidates.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for node in graph.sources.values() -%}
            {%- if (node.identifier or node.name) == table -%}
                {%- do candidates.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if candidates | length != 1 -%}
            {{ exceptions.raise_compiler_error(
                "table_checks: " ~ candidates | length ~ " nodes are called " ~ table
            ) }}
        {%- endif -%}
        {%- set node = candidates[0] -%}
        {%- for column in node.columns.values() -%}
            {%- set config_meta = (column.config or {}).get('meta') or {} -%}
            {%- set checks = config_meta.get('checks') or (column.meta or {}).get('checks') or [] -%}
            {%- do found.append({
                'name': column.name,
                'checks': checks,
                'data_type': column.data_type if node.resource_type == 'source' else none,
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}


{#- Lower-case type of each column of a relation, by lower-case column name. Engine-specific. -#}
{% macro table_checks_column_types(relation) %}
    {{ return(adapter.dispatch('table_checks_column_types')(relation)) }}
{% endmacro %}

{% macro default__table_checks_column_types(relation) %}
    {%- set types = {} -%}
    {%- for row in run_query('describe select * from ' ~ relation).rows -%}
        {%- do types.update({row[0] | lower: row[1] | lower}) -%}
    {%- endfor -%}
    {{ return(types) }}
{% endmacro %}


{#- SQL text of a failure: the message with {n} replaced by the count and row(s). -#}
{% macro table_checks_message(message, count_column, unit='row') %}
    {%- set parts = message.split('{n}') -%}
    '{{ parts[0] | replace("'", "''") }}' || cast({{ count_column }} as varchar)
    || case when {{ count_column }} = 1 then ' {{ unit }}' else ' {{ unit }}s' end
    || '{{ parts[1] | replace("'", "''") }}'
{%- endmacro %}


{#- Raise one error listing every failure (no rows when all checks pass). Engine-specific. -#}
{% macro table_checks_raise(failure, condition) %}
    {{ return(adapter.dispatch('table_checks_raise')(failure, condition)) }}
{% endmacro %}

{% macro default__table_checks_raise(failure, condition) %}
select error(string_agg({{ failure }}, '; ')) as failures
from failures
where {{ condition }}
having count(*) > 0
{% endmacro %}

{% macro spark__table_checks_raise(failure, condition) %}
select raise_error(concat_ws('; ', collect_list({{ failure }}))) as failures
from failures
where {{ condition }}
having count(*) > 0
{% endmacro %}
