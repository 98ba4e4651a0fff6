{{ config(**incremental_by_date_config('month')) }}
{{ config(**incremental_data_end_config('int_data_months', 'month_end_date')) }}

-- One row per (month, dimension, dimension value): the MRR bridge of fct_mrr_monthly for one
-- slice of customers, with its customer counts and rates. Long format: dimension is 'all'
-- (equal to fct_mrr_monthly), 'acquisition_channel', 'segment', 'country', 'device' or 'plan'.
-- Every slice that ever has a customer gets a row for every month of the data (zeros when
-- empty).
--
-- A row is the sum of the customer months (int_customer_mrr_months via
-- int_paid_customer_months, where the movement rule and the month-end plan are computed)
-- that fall in the slice, so starting_mrr + movements = ending_mrr in every slice, and each
-- dimension's slices add up to its 'all' row.
--
-- Channel, segment, country and device (the device the customer signed up on) are fixed per
-- customer (dim_customers). A customer's plan is not: a customer month belongs to the plan
-- held at the month end, or, when the customer pays nothing at the month end, to the plan held
-- at the previous month end. Truth table:
--   previous month end   month end          movement                          plan slice
--   not paying           paying on B        new / reactivation                B
--   paying on A          not paying         churn                             A
--   paying on A          paying on A        expansion / contraction / unch.   A
--   paying on A          paying on B != A   expansion / contraction / unch.   B
--   not paying           not paying         unchanged (moves nothing)         none
-- So ending_mrr of a plan slice is exactly the MRR on that plan at the month end, and a
-- customer who changed plan carries their previous MRR into the new plan's starting_mrr (an
-- upgrade from basic to premium is premium's expansion, not basic's churn and premium's new).
-- Hence a plan slice's starting_mrr is not its previous ending_mrr when customers changed plan
-- (the other dimensions' are).
--
-- Incremental by month (macros/incremental_by_date.sql with month as the key): a nightly run
-- rebuilds the months from the one holding the lookback start, incremental_lookback_days before
-- the last day of the data the table was built from (macros/incremental_kept_data_end.sql):
-- mid-month the current month alone, as the customer months of earlier months do not change.
-- When the slices with customers are no longer those of the stored rows, every month is
-- rebuilt: a slice new in the lookback's months needs a row of zeros in every earlier month,
-- and a slice whose customers were all in them has no row at all.

{% set additive_columns = [
    'starting_mrr',
    'new_mrr',
    'expansion_mrr',
    'reactivation_mrr',
    'contraction_mrr',
    'churned_mrr',
    'ending_mrr',
    'starting_paying_customers',
    'paying_customers',
    'new_customers',
    'churned_customers',
    'reactivated_customers',
] %}
{% set slice_dimensions = ['acquisition_channel', 'segment', 'country', 'device', 'plan'] %}
{% set slice_sums = {} %}
{% for column in additive_columns %}
{% do slice_sums.update({column: 'sum(' ~ column ~ ')'}) %}
{% endfor %}

with

customers as (
    select
        user_id,
        acquisition_channel,
        segment,
        country,
        device
    from {{ ref('dim_customers') }}
),

{% if is_incremental() %}
lookback as (
    -- the first month a nightly run rebuilds when the slices are the same
    select {{ incremental_kept_rebuild_month('month') }} as lookback_month
),

lookback_customer_plans as (
    -- the customer months from the lookback month that move MRR, and their plan (as
    -- sliced_customer_months below)
    select
        user_id,
        coalesce(plan, previous_plan) as plan
    from {{ ref('int_paid_customer_months') }}
    where
        mrr_month >= (select lookback.lookback_month from lookback)
        and (mrr > 0 or previous_mrr > 0)
),

lookback_slice_values as (
    -- the values each dimension takes in those
    select distinct
        customers.acquisition_channel,
        customers.segment,
        customers.country,
        customers.device,
        lookback_customer_plans.plan
    from lookback_customer_plans
    left join customers
        on lookback_customer_plans.user_id = customers.user_id
),

stored_slices as (
    select distinct
        dimension,
        dimension_value
    from {{ this }}
),

slices_with_customers as (
    -- the slices with customers before the lookback month (a stored row summed from customer
    -- months has a paying customer at one month end or the other), and from it
    select distinct
        dimension,
        dimension_value
    from {{ this }}
    where
        month < (select lookback.lookback_month from lookback)
        and (paying_customers > 0 or starting_paying_customers > 0)
    {%- for dimension in slice_dimensions %}

    union

    select distinct
        '{{ dimension }}' as dimension,
        cast({{ dimension }} as {{ dbt.type_string() }}) as dimension_value
    from lookback_slice_values
    {%- endfor %}

    union

    select
        'all' as dimension,
        'all' as dimension_value
),
{% endif %}

rebuilt_months as (
    -- the first month this run writes: the lookback month, or every month when the slices
    -- changed
    select {{ incremental_kept_rebuild_month(
        'month',
        incremental_rows_differ(
            'select * from stored_slices', 'select * from slices_with_customers'
        ),
    ) }} as rebuild_from
),

months as (
    select
        month,
        month_end_date,
        is_complete_month
    from {{ ref('int_data_months') }}
    where
        month >= (select rebuilt_months.rebuild_from from rebuilt_months)
        -- no billing data (dim_data_coverage): no rows, not months of MRR 0
        and {{ core_data_area_present('billing') }}
),

customer_months as (
    select
        user_id,
        mrr_month,
        plan,
        previous_plan,
        mrr,
        previous_mrr,
        mrr_change,
        movement
    from {{ ref('int_paid_customer_months') }}
    where mrr_month >= (select rebuilt_months.rebuild_from from rebuilt_months)
),

sliced_customer_months as (
    -- months with no MRR at either end move nothing and belong to no plan, so they are left out
    select
        customer_months.mrr_month as month,
        customers.acquisition_channel,
        customers.segment,
        customers.country,
        customers.device,
        coalesce(customer_months.plan, customer_months.previous_plan) as plan,
        customer_months.mrr,
        customer_months.previous_mrr,
        customer_months.mrr_change,
        customer_months.movement
    from customer_months
    left join customers
        on customer_months.user_id = customers.user_id
    where customer_months.mrr > 0 or customer_months.previous_mrr > 0
),

cells as (
    -- the bridge per combination of every dimension's value, summed per dimension below
    select
        month,
        acquisition_channel,
        segment,
        country,
        device,
        plan,
        sum(previous_mrr) as starting_mrr,
        sum(mrr) as ending_mrr,
        sum(case when previous_mrr > 0 then 1 else 0 end) as starting_paying_customers,
        sum(case when mrr > 0 then 1 else 0 end) as paying_customers,
        {{ core_mrr_bridge_sums() }}
    from sliced_customer_months
    group by month, acquisition_channel, segment, country, device, plan
),

slice_months as (
    {{ analytics_dimension_rollup(
        'cells',
        ['month'],
        slice_dimensions,
        slice_sums
    ) }}
),

slices as (
    -- every slice seen in any month; 'all' always, so the totals exist even with no customers
    select
        dimension,
        dimension_value
    from slice_months
    union
    select
        'all' as dimension,
        'all' as dimension_value
    {% if is_incremental() %}
        union
        -- the slices of the months not rebuilt
        select
            dimension,
            dimension_value
        from slices_with_customers
    {% endif %}
),

filled as (
    select
        months.month,
        months.month_end_date,
        months.is_complete_month,
        slices.dimension,
        slices.dimension_value,
        coalesce(slice_months.starting_mrr, 0) as starting_mrr,
        coalesce(slice_months.new_mrr, 0) as new_mrr,
        coalesce(slice_months.expansion_mrr, 0) as expansion_mrr,
        coalesce(slice_months.reactivation_mrr, 0) as reactivation_mrr,
        coalesce(slice_months.contraction_mrr, 0) as contraction_mrr,
        coalesce(slice_months.churned_mrr, 0) as churned_mrr,
        coalesce(slice_months.ending_mrr, 0) as ending_mrr,
        coalesce(slice_months.starting_paying_customers, 0) as starting_paying_customers,
        coalesce(slice_months.paying_customers, 0) as paying_customers,
        coalesce(slice_months.new_customers, 0) as new_customers,
        coalesce(slice_months.churned_customers, 0) as churned_customers,
        coalesce(slice_months.reactivated_customers, 0) as reactivated_customers
    from months
    cross join slices
    left join slice_months
        on
            months.month = slice_months.month
            and slices.dimension = slice_months.dimension
            and slices.dimension_value = slice_months.dimension_value
),

final as (
    select
        cast(month as date) as month,
        cast(month_end_date as date) as month_end_date,
        is_complete_month,
        dimension,
        dimension_value,
        cast(starting_mrr as decimal(18, 6)) as starting_mrr,
        cast(new_mrr as decimal(18, 6)) as new_mrr,
        cast(expansion_mrr as decimal(18, 6)) as expansion_mrr,
        cast(reactivation_mrr as decimal(18, 6)) as reactivation_mrr,
        cast(contraction_mrr as decimal(18, 6)) as contraction_mrr,
        cast(churned_mrr as decimal(18, 6)) as churned_mrr,
        cast(ending_mrr as decimal(18, 6)) as ending_mrr,
        cast(ending_mrr - starting_mrr as decimal(18, 6)) as net_new_mrr,
        cast(starting_paying_customers as bigint) as starting_paying_customers,
        cast(paying_customers as bigint) as paying_customers,
        cast(new_customers as bigint) as new_customers,
        cast(churned_customers as bigint) as churned_customers,
        cast(reactivated_customers as bigint) as reactivated_customers,
        {{ core_mrr_rates() }}
    from filled
)

select * from final
