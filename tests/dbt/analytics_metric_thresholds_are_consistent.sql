-- seeds/metric_thresholds.csv is edited by hand, so check what a typo would break: one rule
-- per (check_type, metric, grain); critical limits further from normal than warning limits;
-- anomaly rules are daily with direction `both` and positive limits; threshold rules have
-- direction above/below; exactly one `default` anomaly rule. Returns the offending rules.

with

thresholds as (
    select * from {{ ref('metric_thresholds') }}
),

duplicates as (
    select
        check_type,
        metric,
        grain,
        'duplicate rule' as problem
    from thresholds
    group by check_type, metric, grain
    having count(*) > 1
),

misordered as (
    select
        check_type,
        metric,
        grain,
        'critical limit is not beyond the warning limit' as problem
    from thresholds
    where
        (direction in ('above', 'both') and critical_value < warning_value)
        or (direction = 'below' and critical_value > warning_value)
),

malformed as (
    select
        check_type,
        metric,
        grain,
        'anomaly rules are daily, direction both, limits > 0; threshold rules above/below'
            as problem
    from thresholds
    where
        (
            check_type = 'anomaly'
            and (grain != 'daily' or direction != 'both' or warning_value <= 0)
        )
        or (check_type = 'threshold' and direction = 'both')
),

default_rules as (
    select
        'anomaly' as check_type,
        'default' as metric,
        'daily' as grain,
        'exactly one default anomaly rule is required' as problem
    from thresholds
    where check_type = 'anomaly' and metric = 'default'
    having count(*) != 1
)

select * from duplicates
union all
select * from misordered
union all
select * from malformed
union all
select * from default_rules
