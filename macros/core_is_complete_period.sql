{#-
    The one rule for a complete period: the data covers every calendar day of it, i.e. the
    period starts on or after the first day of data and ends on or before the last
    (int_data_span). Stated once; int_data_months.is_complete_month and dim_periods.is_complete
    (day, week, month; a cohort is complete when its month is) both use it.

        period                         data 2025-12-02 .. 2026-12-01    complete
        day 2026-11-30                 inside                           true
        week 2026-11-30 .. 2026-12-06  ends after the data              false (2 of 7 days)
        month 2025-12-01 .. 12-31      starts before the data           false (30 of 31 days)
        month 2026-11-01 .. 11-30      inside                           true
-#}
{% macro core_is_complete_period(period_start_date, period_end_date, data_span='data_span') %}
    (
        {{ period_start_date }} >= {{ data_span }}.data_start_date
        and {{ period_end_date }} <= {{ data_span }}.data_end_date
    )
{% endmacro %}
