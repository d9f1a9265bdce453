{# Segment moves between the end of the previous month and the as-of date, both scored with the same rules. #}
with

previous_rfm as (

    {{ rfm_segmented("cast(date_trunc('month', " ~ as_of_date() ~ ") - interval 1 day as date)") }}

),

current_rfm as (

    {{ rfm_segmented(as_of_date()) }}

),

moves as (

    select
        coalesce(previous_rfm.rfm_segment, '(not yet a customer)') as from_segment,
        current_rfm.rfm_segment as to_segment,
        count(*) as customers
    from current_rfm
    left join previous_rfm on current_rfm.customer_key = previous_rfm.customer_key
    group by all

),

final as (

    select
        cast(date_trunc('month', {{ as_of_date() }}) - interval 1 day as date) as previous_as_of_date,
        {{ as_of_date() }} as as_of_date,
        from_segment,
        to_segment,
        from_segment != to_segment as is_move,
        customers,
        round(customers / sum(customers) over (partition by from_segment), 4) as share_of_from_segment
    from moves

)

select * from final
