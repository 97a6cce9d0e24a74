--- The history file's schema and its migrations, one step per version.
-- A file is ours when its `application_id` is `M.APPLICATION_ID`; its
-- `user_version` is the last migration applied.  Migrations run in one
-- transaction each, so a file is always at a whole version.
-- @module mdb.history_schema
local M = {}

M.APPLICATION_ID = 0x6d64626c   -- "mdbl"

M.MIGRATIONS = {
   -- 1: scans, what each listing returned, clusters and backups as
   -- intervals of scans ("states"): a row is written when a backup (or a
   -- cluster) first appears or changes, and closed when it changes or
   -- vanishes, so an unchanged fleet costs nothing per scan but the scan's
   -- own rows.
   [1] = [[
CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  time REAL NOT NULL,              -- Unix seconds: when the scan ran (or --now)
  time_text TEXT NOT NULL,         -- the same as RFC 3339
  folder TEXT,                     -- the scan's scope: folder and engines
  engines TEXT NOT NULL,           -- comma-separated
  tool TEXT                        -- what recorded it (snapshot.lua, audit.lua, ...)
);
CREATE TABLE listings (
  scan INTEGER NOT NULL REFERENCES scans(id),
  pos INTEGER NOT NULL,            -- order in the scan's results
  engine TEXT NOT NULL,
  cluster_id TEXT NOT NULL,        -- '' = the engine's Cluster.List
  status TEXT NOT NULL CHECK (status IN ('complete', 'failed')),
  items INTEGER NOT NULL DEFAULT 0,
  error_kind TEXT,
  error TEXT,
  PRIMARY KEY (scan, engine, cluster_id)
) WITHOUT ROWID;
CREATE TABLE clusters (
  id INTEGER PRIMARY KEY,
  engine TEXT NOT NULL,
  cluster_id TEXT NOT NULL,
  folder TEXT,
  UNIQUE (engine, cluster_id)
);
CREATE TABLE cluster_states (
  cluster INTEGER NOT NULL REFERENCES clusters(id),
  from_scan INTEGER NOT NULL,      -- first scan that saw this state
  last_scan INTEGER,               -- last scan that saw it (set when closed)
  until_scan INTEGER,              -- first scan that did not (NULL: current)
  name TEXT,
  retention_days INTEGER,          -- config.backupRetainPeriodDays (OpenSearch: snapshotMaxAgeDays)
  backup_window TEXT,              -- config.backupWindowStart as HH:MM:SS
  digest INTEGER NOT NULL,         -- of the object, to tell a change without decoding data
  data TEXT NOT NULL,              -- the Cluster object as JSON
  PRIMARY KEY (cluster, from_scan)
) WITHOUT ROWID;
CREATE TABLE backup_states (
  id INTEGER PRIMARY KEY,
  cluster INTEGER NOT NULL REFERENCES clusters(id),
  backup_id TEXT NOT NULL,
  from_scan INTEGER NOT NULL,
  last_scan INTEGER,
  until_scan INTEGER,
  created REAL,                    -- createdAt as Unix seconds
  type TEXT,
  status TEXT,
  size INTEGER,
  digest INTEGER NOT NULL,
  data TEXT NOT NULL               -- the Backup object as JSON (int64 fields as strings, as the API sends them)
);
CREATE UNIQUE INDEX backup_states_key ON backup_states (cluster, backup_id, from_scan);
]],
   -- 2: retainUntil as a column (filled from the stored JSON), and the
   -- views for the sqlite3 shell.
   [2] = [[
ALTER TABLE backup_states ADD COLUMN retain_until TEXT;
UPDATE backup_states SET retain_until = json_extract(data, '$.retainUntil');
CREATE VIEW latest_complete AS
  SELECT engine, cluster_id, max(scan) AS scan FROM listings
  WHERE status = 'complete' AND cluster_id <> '' GROUP BY engine, cluster_id;
CREATE VIEW current_backups AS
  SELECT c.engine, c.cluster_id, b.backup_id, b.type, b.status, b.size,
         datetime(b.created, 'unixepoch') AS created,
         (SELECT min(f.from_scan) FROM backup_states f
           WHERE f.cluster = b.cluster AND f.backup_id = b.backup_id) AS first_scan,
         l.scan AS last_scan, b.retain_until, b.data
  FROM backup_states b JOIN clusters c ON c.id = b.cluster
  JOIN latest_complete l ON l.engine = c.engine AND l.cluster_id = c.cluster_id
  WHERE b.until_scan IS NULL
    AND EXISTS (SELECT 1 FROM cluster_states s WHERE s.cluster = b.cluster AND s.until_scan IS NULL);
CREATE VIEW changes AS
  SELECT s.id AS scan, s.time_text AS time, 'appeared' AS kind, c.engine, c.cluster_id,
         b.backup_id, b.type, b.size, NULL AS old, NULL AS new
  FROM backup_states b JOIN clusters c ON c.id = b.cluster JOIN scans s ON s.id = b.from_scan
  WHERE NOT EXISTS (SELECT 1 FROM backup_states p WHERE p.cluster = b.cluster
                    AND p.backup_id = b.backup_id AND p.from_scan < b.from_scan)
  UNION ALL
  SELECT s.id, s.time_text, 'vanished', c.engine, c.cluster_id, b.backup_id, b.type, b.size, NULL, NULL
  FROM backup_states b JOIN clusters c ON c.id = b.cluster JOIN scans s ON s.id = b.until_scan
  WHERE NOT EXISTS (SELECT 1 FROM backup_states n WHERE n.cluster = b.cluster
                    AND n.backup_id = b.backup_id AND n.from_scan = b.until_scan)
  UNION ALL
  SELECT s.id, s.time_text, 'settings', c.engine, c.cluster_id, NULL, NULL, NULL,
         o.retention_days || ' days, window ' || ifnull(o.backup_window, '-'),
         n.retention_days || ' days, window ' || ifnull(n.backup_window, '-')
  FROM cluster_states n JOIN cluster_states o ON o.cluster = n.cluster AND o.until_scan = n.from_scan
  JOIN clusters c ON c.id = n.cluster JOIN scans s ON s.id = n.from_scan
  WHERE o.retention_days IS NOT n.retention_days OR o.backup_window IS NOT n.backup_window
  UNION ALL
  SELECT s.id, s.time_text, 'cluster_vanished', c.engine, c.cluster_id, NULL, NULL, NULL, NULL, NULL
  FROM cluster_states o JOIN clusters c ON c.id = o.cluster JOIN scans s ON s.id = o.until_scan
  WHERE NOT EXISTS (SELECT 1 FROM cluster_states n WHERE n.cluster = o.cluster AND n.from_scan = o.until_scan);
]],
   -- 3: what the retention_policy and failed_backups checks judge, so that
   -- an audit of the past (--from) gives their findings too.  Per listing,
   -- whether the cluster's retention policies and operations were listed
   -- (NULL: not asked for), completely or failed.  A cluster's policies are
   -- few and judged in their order: one state per change of the whole list.
   -- Operations accumulate (each is listed until the API forgets it) and
   -- rarely change once done: one state per operation, like backups.
   [3] = [[
ALTER TABLE listings ADD COLUMN policies TEXT CHECK (policies IN ('complete', 'failed'));
ALTER TABLE listings ADD COLUMN policies_error TEXT;
ALTER TABLE listings ADD COLUMN operations TEXT CHECK (operations IN ('complete', 'failed'));
ALTER TABLE listings ADD COLUMN operations_error TEXT;
CREATE TABLE policy_states (
  cluster INTEGER NOT NULL REFERENCES clusters(id),
  from_scan INTEGER NOT NULL,
  last_scan INTEGER,
  until_scan INTEGER,
  digest INTEGER NOT NULL,
  data TEXT NOT NULL,              -- the BackupRetentionPolicy objects as a JSON array, in listing order
  PRIMARY KEY (cluster, from_scan)
) WITHOUT ROWID;
CREATE TABLE operation_states (
  id INTEGER PRIMARY KEY,
  cluster INTEGER NOT NULL REFERENCES clusters(id),
  operation_id TEXT NOT NULL,
  from_scan INTEGER NOT NULL,
  last_scan INTEGER,
  until_scan INTEGER,
  created REAL,                    -- createdAt as Unix seconds
  digest INTEGER NOT NULL,
  data TEXT NOT NULL               -- the Operation object as JSON
);
CREATE UNIQUE INDEX operation_states_key ON operation_states (cluster, operation_id, from_scan);
]],
   -- 4: what an audit of the past (--from) needs to report a scan of
   -- several folders or clouds as the live run did: the scan's scope, and
   -- per listing the folder (and cloud) its Cluster.List ran in; a failed
   -- Resource Manager listing is a failed listing with a cloud (or, for
   -- the clouds themselves, neither) and no folder.  From this version a
   -- failed listing of a folder or cloud has the cluster_id "/FOLDER/CLOUD"
   -- (either part may be empty; cluster ids have no "/"), so that several
   -- folders' failures of one engine are each kept.
   [4] = [[
ALTER TABLE scans ADD COLUMN folders TEXT;      -- several folders (--folder A --folder B), comma-separated
ALTER TABLE scans ADD COLUMN cloud TEXT;        -- the cloud of a --cloud scan
ALTER TABLE scans ADD COLUMN all_clouds INTEGER; -- 1 for an --all-clouds scan
ALTER TABLE listings ADD COLUMN folder TEXT;
ALTER TABLE listings ADD COLUMN cloud TEXT;
]],
}
M.VERSION = #M.MIGRATIONS

return M
