-- the first page, unfiltered
select "t"."id", "t"."campaign_id", "t"."title", "t"."description", "t"."task_type", "t"."input", "t"."difficulty", "t"."reward_amount", "t"."currency", "t"."xp_reward", "t"."time_estimate", "t"."min_trust_score", "t"."min_level", "t"."required_languages", "t"."regions", "t"."is_priority", "t"."claim_ttl_seconds", "t"."deadline", "t"."status", "t"."slots_taken", "t"."max_submissions", "t"."created_at", "p"."priority_score"
from (select "t"."id", "t"."priority_score"
  from "tasks" as "t"
  where "t"."status" = $1
  and "t"."slots_taken" < "t"."max_submissions"
  and ("t"."deadline" is null
    or "t"."deadline" > $2)
  and "t"."min_level" <= $3
  and t.min_trust_score <= $4::numeric
  and (t.required_languages = '{}'
    or exists ( select
      from unnest(t.required_languages) as l(tag)
      where lower(split_part(l.tag, '-', 1)) = any($5::text[])))
  and (t.regions = '{}'
    or $6::text = any(t.regions))
  and exists ( select
    from campaigns c
    where c.id = t.campaign_id
    and c.status = 'active'
    and (c.start_at is null
      or c.start_at <= $7)
    and (c.end_at is null
      or c.end_at > $8)
    and c.funded_amount - c.spent_amount - c.returned_amount - c.reserved_amount - c.owed_amount >= t.claim_hold_amount
    and (c.target_count is null
      or c.quota_taken < c.target_count)
    and (not c.is_private
      or exists ( select
        from campaign_invitations i
        where i.campaign_id = c.id
        and i.user_id = $9::uuid)) offset 0)
  and not exists ( select
    from assignments a
    where a.task_id = t.id
    and a.contributor_id = $10::uuid
    and a.status not in ('released', 'expired') offset 0)
  order by "t"."priority_score" desc, "t"."id" desc
  limit $11) as "p"
inner join "tasks" as "t" on "t"."id" = "p"."id"
order by "p"."priority_score" desc, "p"."id" desc;
-- $1 = "active"
-- $2 = '2030-01-01T12:00:00.000Z'
-- $3 = 3
-- $4 = "6.5"
-- $5 = ["es","en"]
-- $6 = "NG"
-- $7 = '2030-01-01T12:00:00.000Z'
-- $8 = '2030-01-01T12:00:00.000Z'
-- $9 = "0195a0e2-7b1c-7d2e-8f00-123456789abc"
-- $10 = "0195a0e2-7b1c-7d2e-8f00-123456789abc"
-- $11 = 21

-- a later page, every filter
select "t"."id", "t"."campaign_id", "t"."title", "t"."description", "t"."task_type", "t"."input", "t"."difficulty", "t"."reward_amount", "t"."currency", "t"."xp_reward", "t"."time_estimate", "t"."min_trust_score", "t"."min_level", "t"."required_languages", "t"."regions", "t"."is_priority", "t"."claim_ttl_seconds", "t"."deadline", "t"."status", "t"."slots_taken", "t"."max_submissions", "t"."created_at", "p"."priority_score"
from (select "t"."id", "t"."priority_score"
  from "tasks" as "t"
  where "t"."status" = $1
  and "t"."slots_taken" < "t"."max_submissions"
  and ("t"."deadline" is null
    or "t"."deadline" > $2)
  and "t"."min_level" <= $3
  and t.min_trust_score <= $4::numeric
  and (t.required_languages = '{}'
    or exists ( select
      from unnest(t.required_languages) as l(tag)
      where lower(split_part(l.tag, '-', 1)) = any($5::text[])))
  and (t.regions = '{}'
    or $6::text = any(t.regions))
  and exists ( select
    from campaigns c
    where c.id = t.campaign_id
    and c.status = 'active'
    and (c.start_at is null
      or c.start_at <= $7)
    and (c.end_at is null
      or c.end_at > $8)
    and c.funded_amount - c.spent_amount - c.returned_amount - c.reserved_amount - c.owed_amount >= t.claim_hold_amount
    and (c.target_count is null
      or c.quota_taken < c.target_count)
    and (not c.is_private
      or exists ( select
        from campaign_invitations i
        where i.campaign_id = c.id
        and i.user_id = $9::uuid)) offset 0)
  and not exists ( select
    from assignments a
    where a.task_id = t.id
    and a.contributor_id = $10::uuid
    and a.status not in ('released', 'expired') offset 0)
  and "t"."task_type" = $11
  and "t"."difficulty" = $12
  and t.reward_amount >= $13::bigint
  and "t"."priority_score" >= $14
  and t.reward_amount <= $15::bigint
  and "t"."priority_score" <= $16
  and (t.priority_score, t.id) < ($17::float8, $18::uuid)
  order by "t"."priority_score" desc, "t"."id" desc
  limit $19) as "p"
inner join "tasks" as "t" on "t"."id" = "p"."id"
order by "p"."priority_score" desc, "p"."id" desc;
-- $1 = "active"
-- $2 = '2030-01-01T12:00:00.000Z'
-- $3 = 3
-- $4 = "6.5"
-- $5 = ["es","en"]
-- $6 = "NG"
-- $7 = '2030-01-01T12:00:00.000Z'
-- $8 = '2030-01-01T12:00:00.000Z'
-- $9 = "0195a0e2-7b1c-7d2e-8f00-123456789abc"
-- $10 = "0195a0e2-7b1c-7d2e-8f00-123456789abc"
-- $11 = "rlhf"
-- $12 = "hard"
-- $13 = 100
-- $14 = 0.099999
-- $15 = 5000
-- $16 = 25.000001
-- $17 = 12.5
-- $18 = "0195a0e2-7b1c-7d2e-8f00-123456789abc"
-- $19 = 21
