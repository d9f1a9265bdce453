{# The segment map covers all 25 (R, FM) cells, each exactly once, with scores 1..5 and uses exactly the 11 documented segments. #}
with

cells as (

    select * from {{ ref('rfm_segment_map') }}

),

expected_segments as (

    select expected.segment
    from (
        values
        ('Champions'), ('Loyal'), ('Potential Loyalist'), ('New'), ('Promising'), ('Need Attention'),
        ('About to Sleep'), ('At Risk'), ('Can''t Lose Them'), ('Hibernating'), ('Lost')
    ) as expected (segment)

),

problems as (

    select 'cell count is ' || count(*) as problem from cells
    having count(*) != 25
    union all
    select 'score out of range: ' || recency_score || frequency_monetary_score from cells
    where recency_score not between 1 and 5 or frequency_monetary_score not between 1 and 5
    union all
    select 'cell mapped more than once: ' || recency_score || frequency_monetary_score from cells
    group by recency_score, frequency_monetary_score
    having count(*) > 1
    union all
    select 'unknown segment: ' || cells.segment from cells
    where cells.segment not in (select expected_segments.segment from expected_segments)
    union all
    select 'unused segment: ' || expected_segments.segment from expected_segments
    where expected_segments.segment not in (select cells.segment from cells)

)

select * from problems
