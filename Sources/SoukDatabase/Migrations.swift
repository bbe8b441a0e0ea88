import GRDB

/// The schema's history. Append-only: never edit a migration that has shipped, add a new one.
/// Migrations use raw column names, never app types, so old migrations keep compiling as types change.
enum Migrations {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-accounts") { db in
            try db.create(table: "users") { t in
                t.primaryKey("id", .text)
                t.column("email", .text).notNull().unique().collate(.nocase)
                t.column("name", .text).notNull()
                t.column("password_hash", .text).notNull()
                t.column("role", .text).notNull().check(sql: "role IN ('buyer', 'seller', 'admin')")
                t.column("seller_status", .text)
                    .check(sql: "seller_status IS NULL OR seller_status IN ('pending', 'verified', 'rejected', 'suspended')")
                t.column("disabled", .boolean).notNull().defaults(to: false)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "sessions") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                // SHA-256 of the cookie value: a stolen database yields no usable session.
                t.column("token_hash", .text).notNull().unique()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("ip", .text)
                t.column("user_agent", .text)
            }
            try db.create(table: "api_tokens") { t in
                t.primaryKey("id", .text)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("token_hash", .text).notNull().unique()
                t.column("scopes", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.column("last_used_at", .datetime)
            }
        }
        migrator.registerMigration("v2-catalog") { db in
            try db.create(table: "products") { t in
                t.primaryKey("id", .text)
                t.column("seller_id", .text).notNull().indexed().references("users", onDelete: .restrict)
                t.column("title", .text).notNull()
                t.column("slug", .text).notNull().unique()
                t.column("summary", .text).notNull().defaults(to: "")
                t.column("description", .text).notNull().defaults(to: "")
                t.column("description_html", .text).notNull().defaults(to: "")
                t.column("category", .text).notNull()
                t.column("tags", .text).notNull().defaults(to: "[]")  // JSON array of strings
                t.column("kind", .text).notNull().check(sql: "kind IN ('download', 'license', 'content')")
                t.column("price", .integer).notNull().check(sql: "price >= 0")
                t.column("currency", .text).notNull()
                // Set: pay what you want, from this minimum (price is then the suggestion).
                t.column("min_price", .integer).check(sql: "min_price IS NULL OR (min_price >= 0 AND min_price <= price)")
                // Units left for sale; NULL = unlimited. Never negative, whatever the code does.
                t.column("stock", .integer).check(sql: "stock IS NULL OR stock >= 0")
                t.column("status", .text).notNull().check(sql: "status IN ('draft', 'published', 'archived')")
                t.column("attributes", .text).notNull().defaults(to: "{}")
                t.column("download_limit", .integer)
                t.column("activation_limit", .integer)
                t.column("rating_avg", .double).notNull().defaults(to: 0)
                t.column("rating_count", .integer).notNull().defaults(to: 0)
                t.column("sales_count", .integer).notNull().defaults(to: 0)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.column("published_at", .datetime)
            }
            // The listing queries: by status, then one of the sort keys.
            try db.create(index: "products_status_published", on: "products", columns: ["status", "published_at"])
            try db.create(index: "products_status_category", on: "products", columns: ["status", "category"])
            try db.create(index: "products_status_sales", on: "products", columns: ["status", "sales_count"])

            try db.create(table: "product_files") { t in
                t.primaryKey("id", .text)
                t.column("product_id", .text).notNull().references("products", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["product_id", "name", "version"])
            }
            try db.create(table: "product_pages") { t in
                t.column("product_id", .text).notNull().references("products", onDelete: .cascade)
                t.column("slug", .text).notNull()
                t.column("title", .text).notNull()
                t.column("body", .text).notNull()
                t.column("body_html", .text).notNull()
                t.column("updated_at", .datetime).notNull()
                t.primaryKey(["product_id", "slug"])
            }
            // Full-text index of *listed* products, keyed by products.rowid. Kept in sync by the
            // product writes in the same transaction (AppDatabase+Catalog). Prefix indexes make
            // the as-you-type last word cheap.
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE product_search USING fts5(
                        title, summary, description, tags, category, seller_name,
                        tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')
                    """)
        }
        migrator.registerMigration("v3-search-changes") { db in
            // A change feed for in-memory search indexes. Triggers append to it in the transaction
            // of every product write and every change to a seller's standing, whoever makes it
            // (the server, a CLI process, an operator with sqlite3), so an index never misses one.
            try db.create(table: "search_changes") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("product_rowid", .integer)
                t.column("seller_id", .text)
            }
            try db.execute(
                sql: """
                    CREATE TRIGGER products_changed_insert AFTER INSERT ON products BEGIN
                        INSERT INTO search_changes (product_rowid) VALUES (NEW.rowid);
                    END;
                    CREATE TRIGGER products_changed_update AFTER UPDATE ON products BEGIN
                        INSERT INTO search_changes (product_rowid) VALUES (NEW.rowid);
                    END;
                    CREATE TRIGGER products_changed_delete AFTER DELETE ON products BEGIN
                        INSERT INTO search_changes (product_rowid) VALUES (OLD.rowid);
                    END;
                    CREATE TRIGGER sellers_changed AFTER UPDATE OF disabled, seller_status, role ON users
                    WHEN NEW.role != 'buyer' OR OLD.role != 'buyer' BEGIN
                        INSERT INTO search_changes (seller_id) VALUES (NEW.id);
                    END;
                    """)
        }
        migrator.registerMigration("v4-stable-search-ids") { db in
            // products has a TEXT primary key, so its rowid may change in a VACUUM; the search
            // indexes must not depend on it. `search_id` is a stable integer key for them
            // (initially the rowid, so the existing FTS5 rows stay valid).
            try db.execute(
                sql: """
                    ALTER TABLE products ADD COLUMN search_id INTEGER;
                    UPDATE products SET search_id = rowid;
                    CREATE UNIQUE INDEX products_search_id ON products (search_id);
                    DROP TRIGGER products_changed_insert;
                    DROP TRIGGER products_changed_update;
                    DROP TRIGGER products_changed_delete;
                    CREATE TRIGGER products_assign_search_id AFTER INSERT ON products WHEN NEW.search_id IS NULL BEGIN
                        UPDATE products SET search_id = (SELECT COALESCE(MAX(search_id), 0) + 1 FROM products)
                        WHERE id = NEW.id;
                    END;
                    -- search_changes.product_rowid now carries search_id. An insert is recorded by
                    -- the update that assigns its search_id.
                    CREATE TRIGGER products_changed_update AFTER UPDATE ON products WHEN NEW.search_id IS NOT NULL BEGIN
                        INSERT INTO search_changes (product_rowid) VALUES (NEW.search_id);
                    END;
                    CREATE TRIGGER products_changed_delete AFTER DELETE ON products BEGIN
                        INSERT INTO search_changes (product_rowid) VALUES (OLD.search_id);
                    END;
                    """)
        }
        registerJobQueue(&migrator)
        registerCarts(&migrator)
        registerOrders(&migrator)
        registerRefundAttempts(&migrator)
        registerDelivery(&migrator)
        registerPaymentMismatches(&migrator)
        registerSessionOrigin(&migrator)
        registerDownloadBytes(&migrator)
        registerReviews(&migrator)
        registerNotifications(&migrator)
        registerMessages(&migrator)
        registerWebhooks(&migrator)
        registerAdminListIndexes(&migrator)
        registerProductDeletion(&migrator)
        registerPasswordResets(&migrator)
        registerProductImages(&migrator)
        registerEmailChanges(&migrator)
        registerPeopleFacing(&migrator)
        registerSalesSettle(&migrator)
        registerJobClaimIndex(&migrator)
        registerProductViewsBySeller(&migrator)
        registerRowCounts(&migrator)
        registerSellerFigures(&migrator)
        registerUserEmailSearch(&migrator)
        registerUnreadCounts(&migrator)
        registerLicenseKeyPaging(&migrator)
        registerLibraryPaging(&migrator)
        registerDownloadLogByProduct(&migrator)
        registerRatingCounts(&migrator)
        registerUserEmailIndex(&migrator)
        return migrator
    }()
}
