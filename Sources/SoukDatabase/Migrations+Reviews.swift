import GRDB

extension Migrations {
    static func registerReviews(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13-reviews") { db in
            // One review per buyer and product: writing again replaces it (same id). Visible (shown
            // and counted in products.rating_avg / rating_count) while neither hidden by a
            // moderator nor withdrawn (the order that allowed it was fully refunded or its dispute
            // lost). Withdrawn, not deleted: the buyer's words stay on record.
            try db.create(table: "reviews") { t in
                t.primaryKey("id", .text)
                t.column("product_id", .text).notNull().references("products", onDelete: .cascade)
                t.column("user_id", .text).notNull().indexed().references("users", onDelete: .cascade)
                t.column("rating", .integer).notNull().check(sql: "rating BETWEEN 1 AND 5")
                t.column("title", .text)
                t.column("body", .text).notNull()
                t.column("body_html", .text).notNull()
                t.column("seller_reply", .text)
                t.column("seller_reply_at", .datetime)
                t.column("hidden_at", .datetime)
                t.column("withdrawn_at", .datetime)
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
                t.uniqueKey(["product_id", "user_id"])
            }
            // The product page's list: newest first.
            try db.create(index: "reviews_product_created", on: "reviews", columns: ["product_id", "created_at"])
        }
    }
}

extension Migrations {
    /// Each product's visible reviews counted per star by triggers, so its rating and the
    /// distribution on its page read five rows at most instead of grouping every review of the
    /// product (on each first render and each new review: 20–40 ms for a product with 100,000).
    static func registerRatingCounts(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v37-rating-counts") { db in
            let visible = { (x: String) in "(\(x).hidden_at IS NULL AND \(x).withdrawn_at IS NULL)" }
            try db.execute(
                sql: """
                    CREATE TABLE product_rating_counts (
                        product_id TEXT NOT NULL, rating INTEGER NOT NULL, count INTEGER NOT NULL,
                        PRIMARY KEY (product_id, rating)) WITHOUT ROWID;
                    INSERT INTO product_rating_counts (product_id, rating, count)
                        SELECT product_id, rating, COUNT(*) FROM reviews r WHERE \(visible("r")) GROUP BY product_id, rating;
                    CREATE TRIGGER reviews_rated_insert AFTER INSERT ON reviews WHEN \(visible("NEW")) BEGIN
                        INSERT INTO product_rating_counts (product_id, rating, count) VALUES (NEW.product_id, NEW.rating, 1)
                            ON CONFLICT DO UPDATE SET count = count + 1;
                    END;
                    CREATE TRIGGER reviews_rated_update AFTER UPDATE OF product_id, rating, hidden_at, withdrawn_at ON reviews
                    WHEN \(visible("OLD")) != \(visible("NEW")) OR OLD.rating != NEW.rating OR OLD.product_id != NEW.product_id BEGIN
                        UPDATE product_rating_counts SET count = count - 1
                            WHERE \(visible("OLD")) AND product_id = OLD.product_id AND rating = OLD.rating;
                        INSERT INTO product_rating_counts (product_id, rating, count)
                            SELECT NEW.product_id, NEW.rating, 1 WHERE \(visible("NEW"))
                            ON CONFLICT DO UPDATE SET count = count + 1;
                    END;
                    CREATE TRIGGER reviews_rated_delete AFTER DELETE ON reviews WHEN \(visible("OLD")) BEGIN
                        UPDATE product_rating_counts SET count = count - 1 WHERE product_id = OLD.product_id AND rating = OLD.rating;
                    END;
                    """)
        }
    }
}
