-- One row per (day, metric) of fct_metric_daily with its expected value from a trailing
-- baseline, an anomaly score, and whether the day is an anomaly.
--
-- Baseline: the same metric on the previous 28 to 56 days, never the day itself; a day is
-- scored once 28 baseline days exist. Counts are compared on the Anscombe scale
-- 2·sqrt(x + 3/8), where Poisson noise has a constant spread; other units on their own scale.
-- Expected value: the median of the same weekday in the baseline (weekly seasonality).
-- Spread: residuals are the baseline days minus their own weekday's median; the spread is the
-- larger of 1.4826 × their median absolute deviation (a robust standard deviation) and their
-- standard deviation (which keeps sparse series, mostly zeros, from getting a zero spread),
-- times (1 + 1.5/k) × sqrt(1 + π/(2k)) for k weeks of baseline, because residuals from a
-- median of only k values understate the spread and the expected value is itself uncertain.
-- Floors: for counts, the step of one unit at the expected level (a count cannot move by
-- less); for USD, 1 % of the expected value and at least $1; otherwise 1 % of the expected
-- value. Score = (value − expected) / spread on that scale. The limits on |score| come from
-- the `anomaly` rows of seeds/metric_thresholds.csv.

{% set max_baseline_days = 56 %}
{% set min_baseline_days = 28 %}

with

metric_daily as (
    select
        metric_date,
        metric,
        value,
        unit,
        case
            when unit = 'count' then 2 * sqrt(greatest(value, 0) + 0.375)
            else value
        end as scaled_value
    from {{ ref('fct_metric_daily') }}
    where value is not null
),

anomaly_limits as (
    select
        metric,
        warning_value,
        critical_value
    from {{ ref('metric_thresholds') }}
    where check_type = 'anomaly'
),

metric_limits as (
    -- a metric's own anomaly row wins over the `default` row
    select
        metrics.metric,
        coalesce(own_limits.warning_value, default_limits.warning_value) as warning_score,
        coalesce(own_limits.critical_value, default_limits.critical_value) as critical_score
    from (select distinct metric from metric_daily) as metrics
    left join anomaly_limits as own_limits
        on metrics.metric = own_limits.metric
    left join anomaly_limits as default_limits
        on default_limits.metric = 'default'
),

baseline_pairs as (
    select
        target.metric,
        target.metric_date,
        baseline.value as baseline_value,
        baseline.scaled_value as baseline_scaled_value,
        mod({{ dbt.datediff('baseline.metric_date', 'target.metric_date', 'day') }}, 7)
            as weekday_offset
    from metric_daily as target
    inner join metric_daily as baseline
        on
            target.metric = baseline.metric
            and target.metric_date > baseline.metric_date
            and baseline.metric_date
            >= {{ dbt.dateadd('day', -max_baseline_days, 'target.metric_date') }}
),

weekday_medians as (
    select
        metric,
        metric_date,
        weekday_offset,
        {{ analytics_median('baseline_value') }} as median_value,
        {{ analytics_median('baseline_scaled_value') }} as median_scaled_value
    from baseline_pairs
    group by metric, metric_date, weekday_offset
),

baseline_spreads as (
    select
        baseline_pairs.metric,
        baseline_pairs.metric_date,
        count(*) as baseline_days,
        cast(count(*) as {{ analytics_type_double() }}) / 7 as baseline_weeks,
        {{ analytics_median(
            'abs(baseline_pairs.baseline_scaled_value - weekday_medians.median_scaled_value)'
        ) }} as median_absolute_deviation,
        stddev_samp(baseline_pairs.baseline_scaled_value - weekday_medians.median_scaled_value)
            as residual_standard_deviation
    from baseline_pairs
    inner join weekday_medians
        on
            baseline_pairs.metric = weekday_medians.metric
            and baseline_pairs.metric_date = weekday_medians.metric_date
            and baseline_pairs.weekday_offset = weekday_medians.weekday_offset
    group by baseline_pairs.metric, baseline_pairs.metric_date
),

baselines as (
    select
        baseline_spreads.metric,
        baseline_spreads.metric_date,
        baseline_spreads.baseline_days,
        same_weekday.median_value as expected_value,
        same_weekday.median_scaled_value as expected_scaled_value,
        greatest(
            1.4826 * baseline_spreads.median_absolute_deviation,
            coalesce(baseline_spreads.residual_standard_deviation, 0)
        )
        * (1 + 1.5 / baseline_spreads.baseline_weeks)
        * sqrt(1 + 3.14159265 / (2 * baseline_spreads.baseline_weeks)) as robust_spread
    from baseline_spreads
    inner join weekday_medians as same_weekday
        on
            baseline_spreads.metric = same_weekday.metric
            and baseline_spreads.metric_date = same_weekday.metric_date
            and same_weekday.weekday_offset = 0
),

scored as (
    select
        metric_daily.metric_date,
        metric_daily.metric,
        metric_daily.unit,
        metric_daily.value,
        baselines.expected_value,
        baselines.baseline_days,
        case
            when metric_daily.unit = 'count'
                then
                    greatest(
                        baselines.robust_spread,
                        -- one unit up from the expected count, on the Anscombe scale
                        2 * sqrt(greatest(baselines.expected_value, 0) + 1.375)
                        - 2 * sqrt(greatest(baselines.expected_value, 0) + 0.375)
                    )
            when metric_daily.unit = 'usd'
                then greatest(baselines.robust_spread, 0.01 * abs(baselines.expected_value), 1.0)
            else
                greatest(
                    baselines.robust_spread,
                    0.01 * abs(baselines.expected_scaled_value),
                    0.000001
                )
        end as spread,
        metric_daily.scaled_value - baselines.expected_scaled_value as scaled_deviation,
        metric_limits.warning_score,
        metric_limits.critical_score
    from metric_daily
    inner join metric_limits
        on metric_daily.metric = metric_limits.metric
    left join baselines
        on
            metric_daily.metric = baselines.metric
            and metric_daily.metric_date = baselines.metric_date
            and baselines.baseline_days >= {{ min_baseline_days }}
),

with_scores as (
    select
        *,
        scaled_deviation / spread as raw_score
    from scored
),

final as (
    select
        metric_date,
        metric,
        unit,
        value,
        expected_value,
        cast(baseline_days as integer) as baseline_days,
        cast(spread as {{ analytics_type_double() }}) as baseline_spread,
        cast(raw_score as {{ analytics_type_double() }}) as score,
        coalesce(abs(raw_score) >= warning_score, false) as is_anomaly,
        case
            when raw_score > 0 then 'up'
            when raw_score < 0 then 'down'
        end as direction,
        case
            when abs(raw_score) >= critical_score then 'critical'
            when abs(raw_score) >= warning_score then 'warning'
        end as severity
    from with_scores
)

select * from final
