import GRDB

extension Migrations {
    /// Download limits count bytes served, not transfers (`DownloadBudget`): every
    /// request that sends content is a row of `downloads`, with what it was charged.
    static func registerDownloadBytes(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12-download-bytes") { db in
            try db.alter(table: "downloads") { t in
                // The first byte served and the length reserved before sending (the range's length).
                t.add(column: "first_byte", .integer).notNull().defaults(to: 0)
                t.add(column: "reserved", .integer).notNull().defaults(to: 0)
                // Bytes written when the transfer ended; NULL while it runs (or if the server died
                // meanwhile: the reservation is then charged in full).
                t.add(column: "sent", .integer)
                // Bytes credited back because a later request resumed this cut-short transfer.
                t.add(column: "credited", .integer).notNull().defaults(to: 0)
            }
            // Every row so far was one counted whole download.
            try db.execute(
                sql: """
                    UPDATE downloads SET reserved = (SELECT size FROM product_files f WHERE f.id = downloads.file_id);
                    UPDATE downloads SET sent = reserved;
                    """)
        }
        migrator.registerMigration("v26-download-resumed") { db in
            // A cut transfer is resumed once, even by a resume that asks nothing again (it starts
            // where the transfer stopped: no credit). Without the mark, a later download from the
            // start would count as its resume and be credited bytes the buyer already has.
            try db.alter(table: "downloads") { t in
                t.add(column: "resumed", .boolean).notNull().defaults(to: false)
            }
            try db.execute(sql: "UPDATE downloads SET resumed = 1 WHERE credited > 0")
        }
    }
}

extension Migrations {
    /// Each download names its product, so a product's log reads newest first along an index
    /// (`product_id, created_at, id`) a page at a time: it was joined through the product's
    /// files and every download of them sorted (50 ms for a product downloaded 100,000 times).
    static func registerDownloadLogByProduct(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v36-download-log-by-product") { db in
            try db.execute(
                sql: """
                    ALTER TABLE downloads ADD COLUMN product_id TEXT;
                    UPDATE downloads SET product_id = (SELECT product_id FROM product_files WHERE id = downloads.file_id);
                    CREATE INDEX downloads_product_created ON downloads (product_id, created_at, id);
                    """)
        }
    }
}
