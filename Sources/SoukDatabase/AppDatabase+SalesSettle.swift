import GRDB

extension AppDatabase {
    /// Hands the sales noted since the last call (`sales_changes`) to the search change feed, in
    /// one transaction: search sorts by the new counts and kept pages are rendered again once,
    /// however many sales there were meanwhile. Returns how many products it announced. Reads
    /// first, so an idle store does not write.
    @discardableResult
    public func settleSales() async throws -> Int {
        let pending = try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sales_changes)") ?? false
        }
        guard pending else { return 0 }
        return try await writer.write { db in
            try db.execute(sql: "INSERT INTO search_changes (product_rowid) SELECT product_rowid FROM sales_changes")
            let announced = db.changesCount
            try db.execute(sql: "DELETE FROM sales_changes")
            return announced
        }
    }
}
