import GRDB

extension Migrations {
    /// Counts the admin pages show, kept by triggers as rows come and go, instead of counted
    /// on every visit: counting 1.8 million reviews made `/admin` take 200 ms, and the jobs
    /// table keeps every finished job. A job state added later needs its `jobs_<state>` row.
    static func registerRowCounts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v30-row-counts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE row_counts (name TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO row_counts (name, count) VALUES
                        ('reviews', (SELECT COUNT(*) FROM reviews)),
                        ('reviews_hidden', (SELECT COUNT(*) FROM reviews WHERE hidden_at IS NOT NULL)),
                        ('jobs_queued', (SELECT COUNT(*) FROM jobs WHERE state = 'queued')),
                        ('jobs_running', (SELECT COUNT(*) FROM jobs WHERE state = 'running')),
                        ('jobs_done', (SELECT COUNT(*) FROM jobs WHERE state = 'done')),
                        ('jobs_dead', (SELECT COUNT(*) FROM jobs WHERE state = 'dead'));

                    CREATE TRIGGER reviews_counted_insert AFTER INSERT ON reviews BEGIN
                        UPDATE row_counts SET count = count + 1 WHERE name = 'reviews';
                        UPDATE row_counts SET count = count + 1 WHERE name = 'reviews_hidden' AND NEW.hidden_at IS NOT NULL;
                    END;
                    CREATE TRIGGER reviews_counted_delete AFTER DELETE ON reviews BEGIN
                        UPDATE row_counts SET count = count - 1 WHERE name = 'reviews';
                        UPDATE row_counts SET count = count - 1 WHERE name = 'reviews_hidden' AND OLD.hidden_at IS NOT NULL;
                    END;
                    CREATE TRIGGER reviews_counted_hidden AFTER UPDATE OF hidden_at ON reviews
                    WHEN (OLD.hidden_at IS NULL) != (NEW.hidden_at IS NULL) BEGIN
                        UPDATE row_counts SET count = count + (CASE WHEN NEW.hidden_at IS NULL THEN -1 ELSE 1 END)
                        WHERE name = 'reviews_hidden';
                    END;

                    CREATE TRIGGER jobs_counted_insert AFTER INSERT ON jobs BEGIN
                        UPDATE row_counts SET count = count + 1 WHERE name = 'jobs_' || NEW.state;
                    END;
                    CREATE TRIGGER jobs_counted_state AFTER UPDATE OF state ON jobs WHEN NEW.state IS NOT OLD.state BEGIN
                        UPDATE row_counts SET count = count - 1 WHERE name = 'jobs_' || OLD.state;
                        UPDATE row_counts SET count = count + 1 WHERE name = 'jobs_' || NEW.state;
                    END;
                    CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs BEGIN
                        UPDATE row_counts SET count = count - 1 WHERE name = 'jobs_' || OLD.state;
                    END;
                    """)
        }
    }
}
