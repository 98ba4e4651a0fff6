{{ config(severity='warn') }}

-- Surfaces open critical alerts in the output of every `dbt build` (as a warning, so a
-- scheduled rebuild still succeeds): critical alerts about the latest day or month of data.
-- Each returned row is one alert's message; see fct_alerts for the details.

select
    alert_id,
    metric,
    period_start_date,
    message
from {{ ref('fct_alerts') }}
where is_open and severity = 'critical'
