-- The client's own X-Request-Id (store.Record.ClientRequestID), kept apart
-- from id, which Sluice now always generates: a client may reuse its id
-- (a retry), and each request must still get its own record. Not unique;
-- '' when the client sent none (and for every record stored before).
ALTER TABLE request_logs ADD COLUMN client_request_id TEXT NOT NULL DEFAULT '';

-- The client_request_id filter, ending in the page order.
CREATE INDEX request_logs_client_request_id ON request_logs (client_request_id, time_us, id);
