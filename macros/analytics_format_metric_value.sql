{#-
    A metric value as text for alert messages, in the metric's unit:
    ratio → '5.3 %', usd → '$1234.50', ms → '1520 ms', points → '62.1', count → '42'.
-#}
{% macro analytics_format_metric_value(value, unit) -%}
    case {{ unit }}
        when 'ratio' then {{ dbt.concat([
            "cast(cast(round(" ~ value ~ " * 100, 1) as decimal(18, 1)) as " ~ dbt.type_string() ~ ")",
            "' %'"]) }}
        when 'usd' then {{ dbt.concat([
            "'$'",
            "cast(cast(round(" ~ value ~ ", 2) as decimal(18, 2)) as " ~ dbt.type_string() ~ ")"]) }}
        when 'ms' then {{ dbt.concat([
            "cast(cast(round(" ~ value ~ ", 0) as bigint) as " ~ dbt.type_string() ~ ")",
            "' ms'"]) }}
        when 'count' then cast(cast(round({{ value }}, 0) as bigint) as {{ dbt.type_string() }})
        else cast(cast(round({{ value }}, 1) as decimal(18, 1)) as {{ dbt.type_string() }})
    end
{%- endmacro %}
