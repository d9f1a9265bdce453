-- The single-pass DuckDB bound of issue 12: the core of what the pipeline computes, hand-written as one script over
-- the same landing Parquet files, no gates, no ledger, no publish. `make bench` times it (median of 3) and divides
-- the pipeline's wall time by it. The harness substitutes __LANDING__ (the synthetic landing folder), __FX_RATES__
-- (ECB rates to USD, benchmarks/fx_usd_rates.py) and __AS_OF__ (the delivery's end date, YYYY-MM-DD).
-- Same rules as the dbt project, simplified where only the cost matters: latest version per key, emails trimmed and
-- lower-cased, test accounts out, CRM duplicates merged on email, daily FX as of the order day, RFM quintiles,
-- 30-minute / traffic-change sessions per device, devices stitched to customers through the user_id they logged in as.

create or replace temp table customers as
with latest as (
    select * from read_parquet('__LANDING__/crm_customers.parquet')
    qualify row_number() over (partition by customer_id order by updated_at desc) = 1
),
cleaned as (
    select
        customer_id,
        lower(trim(email)) as email,
        first_name,
        last_name,
        country_code,
        acquisition_source,
        acquisition_medium,
        signed_up_at
    from latest
    where email is null or not (
        lower(trim(email)) like 'test+%' or lower(trim(email)) like 'qa+%'
        or split_part(lower(trim(email)), '@', 2) in (
            'c360-internal.test', 'qa.c360-internal.test', 'test.example.com', 'internal.example.com',
            'example.test', 'mailinator.com'
        )
        or lower(first_name) in ('test', 'tester', 'qa')
    )
)
select
    *,
    min(customer_id) over (partition by coalesce(email, customer_id)) as customer_key
from cleaned;

create or replace temp table orders_usd as
with latest as (
    select * from read_parquet('__LANDING__/crm_orders.parquet')
    qualify row_number() over (partition by order_id order by updated_at desc) = 1
),
fx as (
    select rate_date::date as rate_date, currency, rate_to_usd
    from read_csv('__FX_RATES__', header = true)
),
priced as (
    select
        latest.order_id,
        customers.customer_key,
        latest.status,
        latest.ordered_at,
        latest.ordered_at::date as order_date,
        upper(latest.currency) as currency,
        latest.order_total
    from latest
    inner join customers using (customer_id)
)
select
    priced.*,
    round(priced.order_total * fx.rate_to_usd, 2) as order_total_usd
from priced
asof left join fx on priced.currency = fx.currency and priced.order_date >= fx.rate_date;

create or replace temp table rfm as
with summarized as (
    select
        customer_key,
        date_diff('day', max(order_date), date '__AS_OF__') as recency_days,
        count(*) as frequency,
        sum(order_total_usd) as monetary
    from orders_usd
    where status = 'completed' and order_date <= date '__AS_OF__'
    group by customer_key
)
select
    *,
    ntile(5) over (order by recency_days desc) as r_score,
    ntile(5) over (order by frequency) as f_score,
    ntile(5) over (order by monetary) as m_score
from summarized;

create or replace temp table web_sessions as
with events as (
    select * from read_parquet('__LANDING__/ga4_events.parquet')
    qualify row_number() over (partition by event_id order by event_timestamp) = 1
),
timed as (
    select *, make_timestamp(event_timestamp) as event_at from events
),
flagged as (
    select
        *,
        case
            when lag(event_at) over device is null then 1
            when event_at > lag(event_at) over device + interval 30 minutes then 1
            when traffic_source is not null and (
                traffic_source is distinct from lag(traffic_source) over device
                or traffic_medium is distinct from lag(traffic_medium) over device
                or traffic_campaign is distinct from lag(traffic_campaign) over device
                or gclid is distinct from lag(gclid) over device
                or fbclid is distinct from lag(fbclid) over device
            ) then 1
            else 0
        end as is_session_start
    from timed
    window device as (partition by user_pseudo_id order by event_at, event_id)
),
numbered as (
    select *, sum(is_session_start) over (partition by user_pseudo_id order by event_at, event_id) as session_number
    from flagged
)
select
    user_pseudo_id,
    session_number,
    min(event_at) as session_start_at,
    max(event_at) as session_end_at,
    count(*) as events,
    arg_min(traffic_source, event_at) as traffic_source,
    arg_min(traffic_medium, event_at) as traffic_medium
from numbered
group by user_pseudo_id, session_number;

create or replace temp table device_customers as
with logins as (
    select user_pseudo_id, min(user_id) as user_id
    from read_parquet('__LANDING__/ga4_events.parquet')
    where user_id is not null
    group by user_pseudo_id
    having count(distinct user_id) = 1
)
select logins.user_pseudo_id, customers.customer_key
from logins
inner join customers on logins.user_id = customers.customer_id;

create or replace temp table customer_360 as
with sessions_by_customer as (
    select
        device_customers.customer_key,
        count(*) as sessions,
        count(*) filter (where web_sessions.session_start_at >= date '__AS_OF__' - interval 30 days) as sessions_30d,
        arg_min(web_sessions.traffic_source || ' / ' || web_sessions.traffic_medium, web_sessions.session_start_at)
            as first_touch_channel
    from web_sessions
    inner join device_customers using (user_pseudo_id)
    group by device_customers.customer_key
),
people as (
    select
        customer_key,
        min(signed_up_at) as signed_up_at,
        arg_min(email, customer_id) as email,
        arg_min(acquisition_source || ' / ' || acquisition_medium, customer_id) as signup_channel,
        count(*) as crm_records
    from customers
    group by customer_key
)
select
    people.customer_key,
    sha256(people.email) as email_sha256,
    people.signed_up_at,
    people.crm_records,
    coalesce(sessions_by_customer.first_touch_channel, people.signup_channel) as acquisition_channel,
    coalesce(sessions_by_customer.sessions, 0) as web_sessions,
    coalesce(sessions_by_customer.sessions_30d, 0) as web_sessions_30d,
    coalesce(rfm.frequency, 0) as completed_orders,
    coalesce(rfm.monetary, 0) as revenue_usd,
    rfm.recency_days,
    rfm.r_score,
    rfm.f_score,
    rfm.m_score
from people
left join sessions_by_customer using (customer_key)
left join rfm using (customer_key);

select
    (select count(*) from customers) as customers,
    (select count(*) from orders_usd) as orders,
    (select count(*) from rfm) as rfm_customers,
    (select count(*) from web_sessions) as web_sessions,
    (select count(*) from customer_360) as customer_360_rows,
    (select sum(revenue_usd) from customer_360) as revenue_usd;
