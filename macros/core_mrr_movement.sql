{#-
    The movement rule, in one place, for any two consecutive period ends (days or months):
      new           0 -> >0 and the customer never had MRR at an earlier period end
      reactivation  0 -> >0 and the customer had MRR at an earlier period end
      expansion     >0 -> higher
      contraction   >0 -> lower but still >0
      churn         >0 -> 0
      unchanged     equal (including 0 -> 0)
-#}
{% macro core_mrr_movement(previous_mrr, mrr, has_paid_before) %}
    case
        when {{ previous_mrr }} = 0 and {{ mrr }} > 0 and not {{ has_paid_before }} then 'new'
        when {{ previous_mrr }} = 0 and {{ mrr }} > 0 then 'reactivation'
        when {{ previous_mrr }} > 0 and {{ mrr }} = 0 then 'churn'
        when {{ mrr }} > {{ previous_mrr }} then 'expansion'
        when {{ mrr }} < {{ previous_mrr }} then 'contraction'
        else 'unchanged'
    end
{% endmacro %}
