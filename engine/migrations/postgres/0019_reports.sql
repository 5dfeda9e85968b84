-- Reports (engine/src/reports): the cycle-time and fulfilment reports read the instances of
-- one workflow started in a period, and their history; this index makes that a range scan.
CREATE INDEX instances_workflow_created ON instances (workflow, created_at);
