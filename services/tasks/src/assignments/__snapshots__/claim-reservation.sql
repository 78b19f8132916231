-- hold the reward and a quota unit of an active campaign that can still promise it
update "campaigns"
set "reserved_amount" = reserved_amount + $1, "quota_taken" = "quota_taken" + $2, "updated_at" = $3
where "id" = $4
and "status" = $5
and funded_amount - spent_amount - returned_amount - reserved_amount - owed_amount >= $6
and ("target_count" is null
  or "quota_taken" < "target_count")
returning "id";
-- $1 = 250
-- $2 = 1
-- $3 = '2030-01-01T12:00:00.000Z'
-- $4 = "0195a0e2-7b1c-7d2e-8f00-00000000c001"
-- $5 = "active"
-- $6 = 250

-- then take a free slot of the task
update "tasks"
set "slots_taken" = "slots_taken" + $1
where "id" = $2
and "slots_taken" < "max_submissions"
returning "id";
-- $1 = 1
-- $2 = "0195a0e2-7b1c-7d2e-8f00-00000000a001"
