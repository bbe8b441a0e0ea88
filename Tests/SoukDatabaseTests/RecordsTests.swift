import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

private func temporaryDatabasePath() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-records-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("souk.db").path
}

/// A record type and the columns it maps (its `CodingKeys`), plus those its table has that the
/// database maintains itself (triggers) and the record never writes.
private struct MappedTable: CustomStringConvertible {
    var recordType: String
    var table: String
    var keys: [String]
    var databaseManaged: Set<String>

    init<Record: TableRecord, Keys: CodingKey & CaseIterable>(
        _ record: Record.Type, _ keys: Keys.Type, databaseManaged: Set<String> = []
    ) {
        recordType = String(describing: record)
        table = Record.databaseTableName
        self.keys = Keys.allCases.map(\.stringValue)
        self.databaseManaged = databaseManaged
    }

    var description: String { "\(recordType) (\(table))" }
}

/// Every record type of SoukDatabase. A new table needs a record here, a new column a coding key.
private let mappedTables: [MappedTable] = [
    MappedTable(UserRecord.self, UserRecord.CodingKeys.self),
    MappedTable(SessionRecord.self, SessionRecord.CodingKeys.self),
    MappedTable(APITokenRecord.self, APITokenRecord.CodingKeys.self),
    MappedTable(
        ProductRecord.self, ProductRecord.CodingKeys.self, databaseManaged: ProductRecord.databaseManagedColumns),
    MappedTable(ProductFileRecord.self, ProductFileRecord.CodingKeys.self),
    MappedTable(ProductPageRecord.self, ProductPageRecord.CodingKeys.self),
    MappedTable(SearchChangeRecord.self, SearchChangeRecord.CodingKeys.self),
    MappedTable(SalesChangeRecord.self, SalesChangeRecord.CodingKeys.self),
    MappedTable(RowCountRecord.self, RowCountRecord.CodingKeys.self),
    MappedTable(JobRecord.self, JobRecord.CodingKeys.self),
    MappedTable(CartRecord.self, CartRecord.CodingKeys.self),
    MappedTable(CartItemRecord.self, CartItemRecord.CodingKeys.self),
    MappedTable(OrderRecord.self, OrderRecord.CodingKeys.self),
    MappedTable(OrderItemRecord.self, OrderItemRecord.CodingKeys.self),
    MappedTable(GrantRecord.self, GrantRecord.CodingKeys.self),
    MappedTable(PaymentEventRecord.self, PaymentEventRecord.CodingKeys.self),
    MappedTable(RefundRow.self, RefundRow.CodingKeys.self),
    MappedTable(RefundAttemptRecord.self, RefundAttemptRecord.CodingKeys.self),
    MappedTable(TestCheckoutSessionRecord.self, TestCheckoutSessionRecord.CodingKeys.self),
    MappedTable(LicenseKeyRecord.self, LicenseKeyRecord.CodingKeys.self),
    MappedTable(LicenseActivationRecord.self, LicenseActivationRecord.CodingKeys.self),
    MappedTable(DownloadRow.self, DownloadRow.CodingKeys.self),
    MappedTable(MagicLinkRecord.self, MagicLinkRecord.CodingKeys.self),
    MappedTable(PasswordResetRecord.self, PasswordResetRecord.CodingKeys.self),
    MappedTable(ProductImageRecord.self, ProductImageRecord.CodingKeys.self),
    MappedTable(EmailChangeRecord.self, EmailChangeRecord.CodingKeys.self),
    MappedTable(NotificationRecord.self, NotificationRecord.CodingKeys.self),
    MappedTable(PaymentMismatchRecord.self, PaymentMismatchRecord.CodingKeys.self),
    MappedTable(ReviewRecord.self, ReviewRecord.CodingKeys.self),
    MappedTable(EmailPreferenceRecord.self, EmailPreferenceRecord.CodingKeys.self),
    MappedTable(OrderMessageRecord.self, OrderMessageRecord.CodingKeys.self),
    MappedTable(AdminAuditRecord.self, AdminAuditRecord.CodingKeys.self),
    MappedTable(WebhookEndpointRecord.self, WebhookEndpointRecord.CodingKeys.self),
    MappedTable(WebhookMessageRecord.self, WebhookMessageRecord.CodingKeys.self),
    MappedTable(WebhookDeliveryRecord.self, WebhookDeliveryRecord.CodingKeys.self),
    MappedTable(ProductViewRecord.self, ProductViewRecord.CodingKeys.self),
    MappedTable(SellerOrderRecord.self, SellerOrderRecord.CodingKeys.self),
    MappedTable(SellerSalesDayRecord.self, SellerSalesDayRecord.CodingKeys.self),
    MappedTable(SellerProductSalesRecord.self, SellerProductSalesRecord.CodingKeys.self),
    MappedTable(SellerCustomerRecord.self, SellerCustomerRecord.CodingKeys.self),
    MappedTable(SellerMoneyRecord.self, SellerMoneyRecord.CodingKeys.self),
    MappedTable(SellerMoneyExceptionRecord.self, SellerMoneyExceptionRecord.CodingKeys.self),
    MappedTable(UnreadNotificationCountRecord.self, UnreadNotificationCountRecord.CodingKeys.self),
    MappedTable(ProductRatingCountRecord.self, ProductRatingCountRecord.CodingKeys.self),
]

@Suite("Record types")
struct RecordsTests {
    /// The schema's tables, without SQLite's and GRDB's own and the full-text index (a virtual
    /// table and its shadow tables, written by SQL only).
    private static func schemaTables(_ db: Database) throws -> Set<String> {
        let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        return Set(
            names.filter { name in
                !name.hasPrefix("sqlite_") && name != "grdb_migrations" && name != "product_search"
                    && !name.hasPrefix("product_search_") && !name.hasPrefix("user_emails")
            })
    }

    @Test("Every table of the schema has exactly one record type")
    func everyTableHasARecord() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let tables = try await database.writer.read { db in try Self.schemaTables(db) }
        let mapped = mappedTables.map(\.table)
        #expect(tables.count == 44)
        #expect(tables.subtracting(mapped).sorted() == [], "tables without a record type")
        #expect(Set(mapped).subtracting(tables).sorted() == [], "record types of tables the schema does not have")
        #expect(Set(mapped).count == mapped.count, "two record types for one table")
    }

    @Test("Every record's coding keys are exactly its table's columns", arguments: mappedTables.map(\.table))
    func codingKeysMatchColumns(table: String) async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let mapped = try #require(mappedTables.first { $0.table == table })
        let columns = try await database.writer.read { db in try db.columns(in: table).map(\.name) }
        #expect(Set(mapped.keys).count == mapped.keys.count, "\(mapped): a column mapped twice")
        #expect(mapped.databaseManaged.isDisjoint(with: mapped.keys), "\(mapped): a database-managed column has a key")
        #expect(
            Set(columns).subtracting(mapped.keys).subtracting(mapped.databaseManaged).sorted() == [],
            "\(mapped): columns without a coding key")
        #expect(Set(mapped.keys).subtracting(columns).sorted() == [], "\(mapped): coding keys without a column")
        #expect(mapped.databaseManaged.subtracting(columns).sorted() == [], "\(mapped): unknown database-managed columns")
    }

    @Test("Records and raw SQL store dates and booleans alike")
    func sameStorageAsRawSQL() async throws {
        let database = try AppDatabase(path: try temporaryDatabasePath())
        let date = Date(timeIntervalSince1970: 1_700_000_000.125)
        let (dates, booleans) = try await database.writer.write { db -> ([String], [String]) in
            try PaymentEventRecord(
                provider: "test", eventID: "evt_record", type: "checkout.session.completed", orderID: nil, outcome: "ignored",
                detail: nil, receivedAt: date
            ).insert(db)
            try db.execute(
                sql: """
                    INSERT INTO payment_events (provider, event_id, type, order_id, outcome, detail, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: ["test", "evt_sql", "checkout.session.completed", nil, "ignored", nil, date])
            try UserRecord(
                id: "usr_record", email: "record@example.com", name: "R", passwordHash: "x", role: "buyer", sellerStatus: nil,
                disabled: true, createdAt: date, updatedAt: date
            ).insert(db)
            try db.execute(
                sql: """
                    INSERT INTO users (id, email, name, password_hash, role, disabled, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: ["usr_sql", "sql@example.com", "S", "x", "buyer", true, date, date])
            return (
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT typeof(received_at) || ' ' || received_at FROM payment_events
                        WHERE event_id IN ('evt_record', 'evt_sql') ORDER BY event_id
                        """),
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT typeof(disabled) || ' ' || disabled FROM users
                        WHERE id IN ('usr_record', 'usr_sql') ORDER BY id
                        """)
            )
        }
        #expect(dates == ["text 2023-11-14 22:13:20.125", "text 2023-11-14 22:13:20.125"])
        #expect(booleans == ["integer 1", "integer 1"])
        let (events, users) = try await database.writer.read { db in
            (
                try PaymentEventRecord.order(Column("event_id")).fetchAll(db),
                try UserRecord.filter(["usr_record", "usr_sql"].contains(Column("id"))).order(Column("id")).fetchAll(db)
            )
        }
        #expect(events.map(\.receivedAt) == [events[0].receivedAt, events[0].receivedAt])
        #expect(abs(events[0].receivedAt.timeIntervalSince(date)) < 0.001)
        #expect(users.map(\.disabled) == [true, true])
    }
}
