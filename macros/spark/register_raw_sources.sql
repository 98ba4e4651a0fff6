{#-
    Makes every raw source resolvable on engines that cannot read a Parquet path in FROM.
    Called from `on-run-start`. On DuckDB it does nothing: dbt-duckdb renders a source with
    `external_location` in its meta as the file path itself. On Spark it (re)creates each such
    source as an external table over its Parquet file, so `{{ source('raw', 'raw_users') }}`
    resolves to `raw.raw_users` and always reads the files at the current raw_dir.
-#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'jobmetrics')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
    {#- The source's external_location is read in place; nothing to register. -#}
    select 1
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {#- Each schema is created once: a `create schema` costs about a second on Derby. -#}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values() -%}
            {%- set location = source.meta.get('external_location')
                or source.config.get('meta', {}).get('external_location')
                or source.source_meta.get('external_location') -%}
            {%- if location -%}
                {%- set path = location
                    | replace('{name}', source.name)
                    | replace('{identifier}', source.identifier)
                    | replace('{schema}', source.schema)
                    | replace("'", '') -%}
                {%- if source.schema not in schemas -%}
                    {%- do run_query('create schema if not exists ' ~ source.schema) -%}
                    {%- do schemas.append(source.schema) -%}
                {%- endif -%}
                {%- do run_query('drop table if exists ' ~ source.schema ~ '.' ~ source.identifier) -%}
                {%- do run_query(
                    'create table ' ~ source.schema ~ '.' ~ source.identifier
                    ~ " using parquet location '" ~ path ~ "'"
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
