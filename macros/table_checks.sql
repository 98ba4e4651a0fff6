{#-
    The column checks of a group of tables, in one dbt test node per group (tests/dbt/checks_*.sql)
    and one query per table: a dbt node costs about 60 ms of dbt's Python, so one node per
    column and check (565 of them) was most of a build; the SQL is one scan of each table either
    way. A column declares its checks in YAML, next to its description:

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
      accepted_values: {seed: plans, column: plan}
                                      no value outside a seed's column (the list a team edits in
                                      one place; the seed must be in table_checks_seeds)
      between: {min_value, max_value} no value outside the inclusive range (either bound optional)
      later_than: other_column        no value at or before other_column (for example ended_at)
      null_when: "<SQL condition>"    NULL exactly when the condition holds
      relationships: {to: dim_customers, field: user_id}
                                      every value is a `field` of the table `to`: a table of
                                      this test's list or of its `references`, a seed of
                                      table_checks_seeds, or a source table (dbt's
                                      relationships test, without a node of its own)
    A model's key of several columns is `config: meta: unique_combination: [a, b]`. On a source,
    every column's declared data_type is compared first with the type the engine reads
    (DESCRIBE), so a raw file written with another type, or without the column, fails naming
    both before a model converts it (that table's other checks wait for the right types; the
    other tables of the group are still checked).

    A failing group returns no rows: the query raises one error listing every broken check by
    table, column and row count, for example
        raw_subscriptions.price_usd: 1 row below 0 (non_negative)
    which dbt prints as the test's error, in `dbt build` and in `jobmetrics build` alike. Every
    table of the group's folders that declares a check must be in the group's list (a new model
    left out fails the test, naming it), so no check is silently skipped.
-#}
{% macro table_checks(relations, folders, resource_type='model', references=[]) %}
    {#- Referenced while dbt parses, so every check group runs after the seeds its accepted
        values may come from (the checks' YAML is only read when the test executes). -#}
    {%- for seed in table_checks_seeds() -%}
        {%- do ref(seed) -%}
    {%- endfor -%}
    {%- if not execute -%}
        select 1 as not_executed where false
    {%- else -%}
        {#- The nodes are read from the graph once and looked up by table name. -#}
        {%- set nodes = table_checks_nodes('model') + table_checks_nodes('source') -%}
        {%- set by_name = {} -%}
        {%- for node in nodes -%}
            {%- do by_name.setdefault(node.identifier or node.alias or node.name, []).append(node) -%}
        {%- endfor -%}
        {%- set tables = [] -%}
        {%- for relation in relations -%}
            {%- if by_name.get(relation.identifier, []) | length != 1 -%}
                {{ exceptions.raise_compiler_error(
                    "table_checks: " ~ by_name.get(relation.identifier, []) | length
                    ~ " nodes are called " ~ relation.identifier
                ) }}
            {%- endif -%}
            {%- do tables.append(relation.identifier) -%}
        {%- endfor -%}
        {%- set kinds = ['source'] if resource_type == 'source' else ['model', 'seed'] -%}
        {%- for node in nodes if node.resource_type in kinds -%}
            {%- set path = node.original_file_path -%}
            {%- set name = node.identifier or node.alias or node.name -%}
            {%- set columns = table_checks_columns(node) -%}
            {%- set declared = columns | selectattr('checks') | list
                or columns | selectattr('data_type') | list
                or (node.config.meta or {}).get('unique_combination') -%}
            {%- set in_folders = [] -%}
            {%- for folder in folders if path.startswith(folder) -%}
                {%- do in_folders.append(folder) -%}
            {%- endfor -%}
            {%- if in_folders and declared and name not in tables -%}
                {{ exceptions.raise_compiler_error(
                    name ~ " (" ~ path ~ ") declares column checks but is not in the list of "
                    ~ "tables of this test"
                ) }}
            {%- endif -%}
        {%- endfor -%}
        {#- A table whose columns are missing or of another type is reported by that alone: its
            other checks could not even be bound. The other tables are still checked. -#}
        {#- The tables a relationships check may point to, by name (seeds and sources are
            looked up when a check names one). -#}
        {%- set parents = {} -%}
        {%- for relation in relations + references -%}
            {%- do parents.update({relation.identifier: relation}) -%}
        {%- endfor -%}
        {%- set problems = [] -%}
        {%- set checked = [] -%}
        {%- for relation in relations -%}
            {%- set found = table_checks_type_problems(relation, by_name[relation.identifier][0]) -%}
            {%- do problems.extend(found) -%}
            {%- if not found -%}
                {%- do checked.append(relation) -%}
            {%- endif -%}
        {%- endfor %}
with

failures as (
    {%- for problem in problems %}
    select '{{ problem | replace("'", "''") }}' as failure, 1 as failing_rows
    {{- '\n    union all' if not loop.last or checked }}
    {%- endfor %}
    {%- for relation in checked %}
    select failure, failing_rows from (
        {{ table_checks_failures(relation, by_name[relation.identifier][0], parents) | indent(8) }}
    ) as checks_{{ loop.index }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
)

{{ table_checks_raise('failure', 'failing_rows > 0') }}
    {%- endif -%}
{% endmacro %}


{#- Models, seeds or sources of the project (resource_type 'model' covers models and seeds). -#}
{% macro table_checks_nodes(resource_type) %}
    {%- set found = [] -%}
    {%- if resource_type == 'source' -%}
        {%- for node in graph.sources.values() if node.package_name == project_name -%}
            {%- do found.append(node) -%}
        {%- endfor -%}
    {%- else -%}
        {%- for node in graph.nodes.values()
            if node.resource_type in ('model', 'seed') and node.package_name == project_name -%}
            {%- do found.append(node) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}


{#- A node's columns with their `checks` (config.meta) and, on a source, data_type. -#}
{% macro table_checks_columns(node) %}
    {%- set found = [] -%}
    {%- for column in node.columns.values() -%}
        {%- set config_meta = (column.config or {}).get('meta') or {} -%}
        {%- do found.append({
            'name': column.name,
            'checks': config_meta.get('checks') or (column.meta or {}).get('checks') or [],
            'data_type': column.data_type if node.resource_type == 'source' else none,
        }) -%}
    {%- endfor -%}
    {{ return(found) }}
{% endmacro %}


{#- "raw_x.col is varchar, expected bigint" / "raw_x.col is missing", for a source's columns. -#}
{% macro table_checks_type_problems(relation, node) %}
    {#- Only when the test runs: `dbt compile` and `dbt docs generate` compile tests too, and must
        not need the raw files. -#}
    {%- if flags.WHICH not in ('build', 'test', 'retry') -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set table = relation.identifier -%}
    {%- set typed = table_checks_columns(node) | selectattr('data_type') | list -%}
    {%- set problems = [] -%}
    {%- if typed -%}
        {%- set actual = table_checks_column_types(relation) -%}
        {%- for column in typed -%}
            {%- set expected = column.data_type | lower -%}
            {%- if column.name not in actual -%}
                {%- do problems.append(table ~ '.' ~ column.name ~ ' is missing') -%}
            {%- elif actual[column.name] != expected -%}
                {%- do problems.append(
                    table ~ '.' ~ column.name ~ ' is ' ~ actual[column.name] ~ ', expected ' ~ expected
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(problems) }}
{% endmacro %}


{#- One table's checks as a query of (failure, failing_rows), one row per check. -#}
{% macro table_checks_failures(model, node, parents={}) %}
{%- set table = model.identifier -%}
{%- set columns = table_checks_columns(node) -%}
{%- set unique_combination = (node.config.meta or {}).get('unique_combination') -%}
{%- set counts = [] -%}
{%- set sorted_keys = [] -%}
{%- set orphans = [] -%}
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
            {%- if argument is mapping -%}
                {%- if argument.seed not in table_checks_seeds() -%}
                    {{ exceptions.raise_compiler_error(
                        label ~ ": accepted_values from seed " ~ argument.seed
                        ~ ", which is not in table_checks_seeds()"
                    ) }}
                {%- endif -%}
                {#- Only a test that runs reads the seed: dbt compile and docs generate compile
                    tests too, against a warehouse that may not hold the seed. -#}
                {%- if flags.WHICH in ('build', 'test', 'retry') -%}
                    {%- set seed_values = run_query(
                        'select distinct ' ~ argument.column ~ ' from ' ~ ref(argument.seed)
                        ~ ' where ' ~ argument.column ~ ' is not null order by 1'
                    ) -%}
                    {%- set argument = seed_values.columns[0].values() | list -%}
                {%- else -%}
                    {%- set argument = ['(values of ' ~ argument.seed ~ '.' ~ argument.column ~ ')'] -%}
                {%- endif -%}
            {%- endif -%}
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
        {%- elif kind == 'relationships' -%}
            {%- do orphans.append((
                name,
                table_checks_parent(argument.to, parents, label),
                argument.field,
                label ~ ': {n} not a ' ~ argument.field ~ ' of ' ~ argument.to ~ ' (relationships)'
            )) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "table_checks: unknown check '" ~ kind ~ "' on " ~ label
                ~ " (known: not_null, unique, no_duplicates, non_negative, accepted_values,"
                ~ " between, later_than, null_when, relationships)"
            ) }}
        {%- endif -%}
    {%- endfor -%}
{%- endfor -%}

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
{%- for name, parent, field, _ in orphans %}
orphans_{{ loop.index }} as (
    select count(*) as failing_rows
    from {{ model }} as child
    where
        child.{{ name }} is not null
        and not exists (
            select 1 from {{ parent }} as parent
            where parent.{{ field }} = child.{{ name }}
        )
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
table_failures as (
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
    {%- for _, _, _, message in orphans %}
    union all
    select
        {{ table_checks_message(message, 'failing_rows') }} as failure,
        failing_rows
    from orphans_{{ loop.index }}
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

select failure, failing_rows from table_failures
{%- endmacro %}


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

{#- The error sits in a filter: a projection could be pruned by dbt's wrapping count(*). -#}
{% macro default__table_checks_raise(failure, condition) %}
select found.failures
from (
    select string_agg({{ failure }}, '; ') as failures
    from failures
    where {{ condition }}
) as found
where case when found.failures is null then false else error(found.failures) is null end
{% endmacro %}

{% macro spark__table_checks_raise(failure, condition) %}
select found.failures
from (
    select concat_ws('; ', collect_list({{ failure }})) as failures
    from failures
    where {{ condition }}
) as found
where case when found.failures = '' then false else raise_error(found.failures) is null end
{% endmacro %}


{#-
    The same checks as a generic test of one table, for the inputs: the raw sources and the
    seeds. dbt's `build` runs a model only after the tests of its parents passed, and only a test
    of one table counts as a test of its parent there, so bad raw data stops the staging models
    and everything after them, not just the build's result.
-#}
{% test table_checks(model) %}
{{ table_checks([model], folders=[]) }}
{% endtest %}


{#- The seeds a check may read: accepted_values: {seed: ..., column: ...} and relationships to a
    seed. Every check group refs them, so they are loaded before any check runs. -#}
{% macro table_checks_seeds() %}
    {{ return(['channels', 'plans']) }}
{% endmacro %}


{#- The relation a relationships check points to: a table of the group (or its references), a
    seed of table_checks_seeds, or a source table; a clear error for anything else. -#}
{% macro table_checks_parent(name, parents, label) %}
    {%- if name in parents -%}
        {{ return(parents[name]) }}
    {%- elif name in table_checks_seeds() -%}
        {{ return(ref(name)) }}
    {%- endif -%}
    {%- for node in graph.sources.values()
        if node.package_name == project_name and node.name == name -%}
        {{ return(source(node.source_name, node.name)) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        label ~ ": relationships to " ~ name ~ ", which is not a table of this check group (add it"
        ~ " to its references=[...]), a seed of table_checks_seeds() or a source table"
    ) }}
{% endmacro %}
