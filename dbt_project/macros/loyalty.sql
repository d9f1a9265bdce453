{# int_loyalty_member_months' pre-hook: delete the rows no incremental run writes again (a run writes each member's
   months from a start month to the as-of month): months after the as-of month (a run as of an earlier day), months
   before the member's first ledger entry, and every month of a member no longer in the ledger (erased, re-keyed,
   flagged as a test account). Nothing on a full refresh. #}
{% macro delete_stale_member_months() -%}
    {%- if is_incremental() %}
    delete from {{ this }} as stale
    where stale.month_start > cast(date_trunc('month', {{ as_of_date() }}) as date)
        or not exists (
            select 1
            from (
                select
                    customer_key,
                    cast(date_trunc('month', min(event_date)) as date) as first_month
                from {{ ref('int_loyalty_events_with_expiry') }}
                group by customer_key
            ) as members
            where members.customer_key = stale.customer_key
                and members.first_month <= stale.month_start
        )
    {%- endif %}
{%- endmacro %}
