{#-
    numerator / denominator as a DOUBLE, NULL (not 0, not an error) when the denominator is
    0 or NULL. Rates are the one place money leaves DECIMAL.
-#}
{% macro core_ratio(numerator, denominator) %}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{% endmacro %}
