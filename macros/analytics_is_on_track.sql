{#-
    The one rule for a target: whether a metric's value is on track against the target of
    seeds/metric_targets.csv. Stated once; fct_metric_targets uses it, and the report tiles,
    goal lines and narratives read that mart's is_on_track instead of comparing again.

        comparator   actual   target   is_on_track
        >=           3.4      3        true
        >=           3        3        true   (meeting the target exactly is on track)
        >=           2.9      3        false
        <=           0.061    0.05     false
        <=           0.05     0.05     true
        either       NULL     any      NULL   (no value: not judged, never "off track")
-#}
{% macro analytics_is_on_track(actual, comparator, target) %}
    case
        when {{ actual }} is null or {{ target }} is null then null
        when {{ comparator }} = '>=' then {{ actual }} >= {{ target }}
        when {{ comparator }} = '<=' then {{ actual }} <= {{ target }}
    end
{% endmacro %}

{#-
    How far a value is on the good side of its target, in the metric's unit: actual − target
    for a `>=` target, target − actual for a `<=` target. Positive or zero exactly when the
    value is on track (above); NULL when it is not judged.
-#}
{% macro analytics_gap_to_target(actual, comparator, target) %}
    case
        when {{ comparator }} = '>=' then {{ actual }} - {{ target }}
        when {{ comparator }} = '<=' then {{ target }} - {{ actual }}
    end
{% endmacro %}
