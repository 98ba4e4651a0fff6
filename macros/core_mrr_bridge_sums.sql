{#-
    The MRR bridge of a group of rows that each carry a movement (macro core_mrr_movement) and
    an mrr_change, in one place for the daily and the monthly marts (fct_mrr_daily groups the
    customer change days by day, fct_mrr_monthly the customer months by month):
      new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr
          the sum of mrr_change over the rows with that movement (contraction and churn are
          negative; an `unchanged` row moves nothing)
      new_customers, churned_customers, reactivated_customers
          the number of rows with movement new, churn, reactivation
    Emits select-list items (no trailing comma); the caller adds its other sums around them.
-#}
{% macro core_mrr_bridge_sums(movement='movement', mrr_change='mrr_change') %}
    {%- set mrr_columns = [
        ('new', 'new_mrr'),
        ('expansion', 'expansion_mrr'),
        ('reactivation', 'reactivation_mrr'),
        ('contraction', 'contraction_mrr'),
        ('churn', 'churned_mrr'),
    ] -%}
    {%- set count_columns = [
        ('new', 'new_customers'),
        ('churn', 'churned_customers'),
        ('reactivation', 'reactivated_customers'),
    ] -%}
    {%- for movement_value, column in mrr_columns %}
        sum(case when {{ movement }} = '{{ movement_value }}' then {{ mrr_change }} else 0 end)
            as {{ column }},
    {%- endfor %}
    {%- for movement_value, column in count_columns %}
        sum(case when {{ movement }} = '{{ movement_value }}' then 1 else 0 end)
            as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{% endmacro %}
