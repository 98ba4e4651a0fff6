{#-
    `(select is_present from dim_data_coverage where data_area = '<area>')`: true when the raw
    data holds the area (scans, sessions, product_events, marketing_spend, billing). Models built
    on an area leave their rows out, or their figures NULL, when it is absent (a billing-only or
    a product-only import), instead of reporting 0 as if it had been measured.
-#}
{% macro core_data_area_present(data_area) -%}
    (
        select data_coverage.is_present
        from {{ ref('dim_data_coverage') }} as data_coverage
        where data_coverage.data_area = '{{ data_area }}'
    )
{%- endmacro %}
