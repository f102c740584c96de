-- Config versions and the audit log are append-only: the database itself refuses to change them,
-- whatever code path tries (a route, a query, a migration script, an sqlite3 shell).
CREATE TRIGGER `config_versions_no_update` BEFORE UPDATE ON `config_versions`
BEGIN SELECT RAISE(ABORT, 'config versions are immutable: create a new version instead'); END;
--> statement-breakpoint
CREATE TRIGGER `config_versions_no_delete` BEFORE DELETE ON `config_versions`
BEGIN SELECT RAISE(ABORT, 'config versions are immutable: they are never deleted'); END;
--> statement-breakpoint
CREATE TRIGGER `config_audit_no_update` BEFORE UPDATE ON `config_audit`
BEGIN SELECT RAISE(ABORT, 'the config audit log is append-only'); END;
--> statement-breakpoint
CREATE TRIGGER `config_audit_no_delete` BEFORE DELETE ON `config_audit`
BEGIN SELECT RAISE(ABORT, 'the config audit log is append-only'); END;
