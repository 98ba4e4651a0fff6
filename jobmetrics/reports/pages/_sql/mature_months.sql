{#- The signup months the funnel page's "months" buttons keep: every mature month, or the last
    3 or 6 mature ones (a month is mature when every stage has had time to happen). -#}
{% set recent = {"all": 0, "last_6": 6, "last_3": 3}[inputs.months.value] %}
{% if recent %}
and funnel_month in (
    select distinct funnel_month from fct_funnel_monthly where is_mature
    order by funnel_month desc limit {{ recent }}
)
{% endif %}
