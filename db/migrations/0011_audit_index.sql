-- 0011: the audit log is read back (GET /api/v1/audit, `doorstep audit`),
-- filtered by action, user or doorbell (target) and a time range, newest
-- first, and purged by age (audit_log_by_time, from 0001).
CREATE INDEX audit_log_by_action ON audit_log(action, at);
CREATE INDEX audit_log_by_user ON audit_log(username COLLATE NOCASE, at);
CREATE INDEX audit_log_by_target ON audit_log(target, at);
