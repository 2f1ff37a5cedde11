-- The page cache's validator: bumped in the same transaction as every change to an account's
-- normalized data, and read back by every request's authentication, so a cached page of an
-- older version is never served.
ALTER TABLE linked_accounts ADD COLUMN data_version bigint NOT NULL DEFAULT 0;
