-- Traffic mirroring (store.Record.MirrorOf): a shadow request's record
-- names the client request it copied; '' for client traffic (and for
-- every record stored before).
ALTER TABLE request_logs ADD COLUMN mirror_of TEXT NOT NULL DEFAULT '';

-- The mirror_of filter (a request's shadows), ending in the page order.
CREATE INDEX request_logs_mirror_of ON request_logs (mirror_of, time_us, id);
