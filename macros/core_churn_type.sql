{#-
    Why a churned customer left, in one place: the churn type of a subscription's end_reason.
      end_reason      churn_type
      canceled        voluntary     the customer cancelled
      payment_failed  involuntary   the charge failed and the subscription ended
      upgraded        NULL          a plan change: the next period starts at the same instant,
      downgraded      NULL          so it never leaves a customer at zero MRR
      NULL            NULL          still active
    A new end_reason maps to NULL until it is added here; fct_churn_by_reason's test
    (tests/dbt/assert_churn_by_reason_reconciles.sql) fails on a churn with no churn type.
-#}
{% macro core_churn_type(end_reason) %}
    case {{ end_reason }}
        when 'canceled' then 'voluntary'
        when 'payment_failed' then 'involuntary'
    end
{% endmacro %}
