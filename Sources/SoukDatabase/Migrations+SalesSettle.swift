import GRDB

extension Migrations {
    /// A sale reaches the search change feed (and so the kept pages' generation) at most every
    /// few seconds (`AppDatabase.settleSales`), not in its own transaction: during a launch every
    /// sale made every kept page and search answer stale at once, so the crowd's pages were
    /// rendered again after each payment.
    ///
    /// A sale is the one update that changes `sales_count` and leaves `updated_at` alone (a
    /// seller's edit writes `updated_at`); it is noted in `sales_changes`, once per product.
    static func registerSalesSettle(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v27-sales-settle") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sales_changes (product_rowid INTEGER PRIMARY KEY);
                    DROP TRIGGER products_changed_update;
                    CREATE TRIGGER products_changed_update AFTER UPDATE ON products
                    WHEN NEW.search_id IS NOT NULL
                        AND NOT (NEW.sales_count IS NOT OLD.sales_count AND NEW.updated_at IS OLD.updated_at) BEGIN
                        INSERT INTO search_changes (product_rowid) VALUES (NEW.search_id);
                    END;
                    CREATE TRIGGER products_sold AFTER UPDATE OF sales_count ON products
                    WHEN NEW.search_id IS NOT NULL
                        AND NEW.sales_count IS NOT OLD.sales_count AND NEW.updated_at IS OLD.updated_at BEGIN
                        INSERT OR IGNORE INTO sales_changes (product_rowid) VALUES (NEW.search_id);
                    END;
                    """)
        }
    }
}
