-- Find the Undo of an activity by the undone activity's id: activities are processed
-- concurrently, so an Undo may be processed before what it undoes.
CREATE INDEX inbox_activities_undone ON inbox_activities
    ((coalesce(payload -> 'object' ->> 'id', payload ->> 'object')))
    WHERE type = 'Undo';
