-- What a run asks the user: a question, or a plan to approve, edit or reject (plan mode).
ALTER TABLE hitl_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'question'
    CHECK (kind IN ('question','plan'));
