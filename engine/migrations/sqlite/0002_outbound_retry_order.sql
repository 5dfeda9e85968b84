-- The dispatcher takes never-tried messages before ones that failed, so a message that keeps
-- failing (a folder that cannot be written) does not hold up the others behind it.
DROP INDEX outbound_unsent;
CREATE INDEX outbound_unsent ON outbound (sent_at, attempts, id);
