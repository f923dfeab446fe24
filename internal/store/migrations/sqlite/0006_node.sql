-- Scale-out (store.Record.Node): the replica that served the request
-- (cluster.node_id, else its host name); '' for every record stored
-- before.
ALTER TABLE request_logs ADD COLUMN node TEXT NOT NULL DEFAULT '';

-- The node filter (one replica's traffic), ending in the page order.
CREATE INDEX request_logs_node ON request_logs (node, time_us, id);
