-- seeds/metric_targets.csv is edited by hand, so check what a typo would break and the
-- accepted_values tests cannot see: one row per metric; a target value on every row; the
-- seed's unit is the unit fct_metric_targets computes the metric in (a churn target written
-- as 5 with unit `ratio` would be 500 %, caught by the range check); a seeded metric that
-- fct_metric_targets has no months for (when the raw data holds billing data). Returns the offending seed rows with the problem.

with

targets as (
    select * from {{ ref('metric_targets') }}
),

computed as (
    select distinct
        metric,
        unit
    from {{ ref('fct_metric_targets') }}
),

duplicates as (
    select
        metric,
        'more than one target for the metric' as problem
    from targets
    group by metric
    having count(*) > 1
),

missing_values as (
    select
        metric,
        'target_value is empty' as problem
    from targets
    where target_value is null
),

unit_mismatches as (
    select
        targets.metric,
        'unit is not the metric''s unit' as problem
    from targets
    inner join computed on targets.metric = computed.metric
    where targets.unit is distinct from computed.unit
),

out_of_range as (
    select
        metric,
        'a ratio target must lie between 0 and 2 (fractions: 0.05 = 5 %)' as problem
    from targets
    where unit = 'ratio' and (target_value < 0 or target_value > 2)
),

not_computed as (
    select
        targets.metric,
        'fct_metric_targets has no month of this metric' as problem
    from targets
    left join computed on targets.metric = computed.metric
    -- every target metric needs billing data; without it fct_metric_targets has no rows
    where computed.metric is null and {{ core_data_area_present('billing') }}
)

select * from duplicates
union all
select * from missing_values
union all
select * from unit_mismatches
union all
select * from out_of_range
union all
select * from not_computed
