{# int_loyalty_member_months' pre-hook: delete the rows no incremental run writes again (a run writes each member's
   months from a start month to the as-of month): months after the as-of month (a run as of an earlier day), months
   before the member's first ledger entry, and every month of a member no longer in the ledger (erased, re-keyed,
   flagged as a test account). Nothing on a full refresh. #}
{% macro delete_stale_member_months() -%}
    {%- if is_incremental() %}
    delete from {{ this }} as stale
    where stale.month_start > cast(date_trunc('month', {{ as_of_date() }}) as date)
        -- before the member's first month, or every month when the member has no entry (a scalar subquery: at L
        -- 2.3 s, against 10 s for a NOT EXISTS with the month comparison inside it)
        or stale.month_start < coalesce(
            (
                select cast(date_trunc('month', min(entries.event_date)) as date)
                from {{ ref('int_loyalty_events_with_expiry') }} as entries
                where entries.customer_key = stale.customer_key
            ),
            cast('9999-12-31' as date)
        )
    {%- endif %}
{%- endmacro %}
