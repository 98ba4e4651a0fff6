{#-
    The SaaS rates of an MRR bridge row, as select-list items (no trailing comma), from the
    columns starting_mrr, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr,
    churned_mrr, ending_mrr, starting_paying_customers, paying_customers, churned_customers
    (contraction and churn negative). Each rate is NULL when its denominator is 0 (core_ratio);
    arpu stays money (DECIMAL), the others are DOUBLE. The definitions are the ones documented
    on fct_mrr_monthly; fct_mrr_monthly_by_dimension's `all` rows are tested equal to it.
-#}
{% macro core_mrr_rates() %}
    cast({{ core_ratio('ending_mrr', 'paying_customers') }} as decimal(18, 6)) as arpu,
    {{ core_ratio('churned_customers', 'starting_paying_customers') }} as logo_churn_rate,
    {{ core_ratio('-(churned_mrr + contraction_mrr)', 'starting_mrr') }}
        as gross_mrr_churn_rate,
    {{ core_ratio(
        '-(churned_mrr + contraction_mrr + expansion_mrr + reactivation_mrr)', 'starting_mrr'
    ) }} as net_mrr_churn_rate,
    {{ core_ratio('starting_mrr + expansion_mrr + contraction_mrr + churned_mrr', 'starting_mrr') }}
        as net_revenue_retention,
    {{ core_ratio('starting_mrr + contraction_mrr + churned_mrr', 'starting_mrr') }}
        as gross_revenue_retention,
    {{ core_ratio('new_mrr + expansion_mrr + reactivation_mrr', '-(churned_mrr + contraction_mrr)') }}
        as quick_ratio,
    {{ core_ratio('ending_mrr - starting_mrr', 'starting_mrr') }} as mrr_growth_rate
{% endmacro %}
