import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

/// The figures triggers keep as orders move (`seller_sales_days`, `seller_product_sales`,
/// `seller_customers`, `seller_money`, `seller_orders`) against the same numbers worked out
/// from every sale line, after a random history of payments, refunds, disputes and expiries.
@Suite("A seller's kept figures")
struct SellerFiguresTests {
    /// One sale line with its order, as the reference reads it.
    struct Line {
        var orderID: String
        var buyerID: String
        var buyerEmail: String
        var paidAt: Date?
        var currency: String
        var status: OrderStatus
        var sellerID: String
        var productID: String
        var sellerAmount: Int

        var sold: Bool { SalesStats.countedStatuses.contains(status) && paidAt != nil }
    }

    func lines(_ f: OrdersFixture) async throws -> [Line] {
        try await f.database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.id, o.buyer_id, u.email, o.paid_at, o.currency, o.status, i.seller_id, i.product_id, i.seller_amount
                    FROM order_items i JOIN orders o ON o.id = i.order_id JOIN users u ON u.id = o.buyer_id
                    """
            ).map { row in
                Line(
                    orderID: row["id"], buyerID: row["buyer_id"], buyerEmail: row["email"], paidAt: row["paid_at"],
                    currency: row["currency"], status: OrderStatus(rawValue: row["status"])!, sellerID: row["seller_id"],
                    productID: row["product_id"], sellerAmount: row["seller_amount"])
            }
        }
    }

    /// A history: three sellers, two currencies, five buyers; sixty orders over about a year,
    /// paid or not, some refunded in part or whole, disputed (won or lost), expired or failed.
    func history(seed: UInt64) async throws -> (OrdersFixture, [User]) {
        let f = try OrdersFixture(provider: "stripe")
        var random = SplitMix64(seed: seed)
        let sellers = [
            try await f.seller("ada@example.com", name: "Ada"), try await f.seller("bo@example.com", name: "Bo"),
            try await f.seller("cy@example.com", name: "Cy"),
        ]
        var products: [String: [Product]] = ["USD": [], "EUR": []]
        for (index, seller) in sellers.enumerated() {
            for currency in ["USD", "EUR"] {
                for n in 0..<2 {
                    let price = 100 + Int(random.next() % 5000)
                    products[currency]!.append(try await f.product("P\(index)\(currency)\(n)", by: seller, price: price, currency: currency))
                }
            }
        }
        var buyers: [User] = []
        for n in 0..<5 { buyers.append(try await f.buyer("buyer\(n)@example.com")) }
        for n in 0..<60 {
            f.clock.advance(Double(random.next() % (14 * 24)) * 3600)
            let currency = random.next() % 3 == 0 ? "EUR" : "USD"
            var chosen: [(Product, Int)] = []
            for product in products[currency]! where random.next() % 4 == 0 { chosen.append((product, 1 + Int(random.next() % 2))) }
            if chosen.isEmpty { chosen = [(products[currency]![Int(random.next() % 6)], 1)] }
            let buyer = buyers[Int(random.next() % 5)]
            let order = try await f.placedOrder(buyer, chosen, fee: 10)
            let roll = random.next() % 10
            if roll == 0 {
                _ = try await f.database.expireOrder(id: order.id)
                continue
            }
            if roll == 1 {
                _ = try await f.database.recordPaymentEvent(f.event("f\(n)", order.id, .failed))
                continue
            }
            if roll == 2 { continue }  // still awaiting payment
            _ = try await f.database.recordPaymentEvent(f.event("p\(n)", order.id, f.payment(order, "pi_\(n)")))
            switch random.next() % 8 {
            case 0:
                _ = try await f.database.recordPaymentEvent(
                    f.event("r\(n)", order.id, .refunded(totalRefunded: 1 + Int(random.next() % UInt64(order.total)), refundID: "re_\(n)")))
            case 1:
                _ = try await f.database.recordPaymentEvent(f.event("r\(n)", order.id, .refunded(totalRefunded: order.total, refundID: "re_\(n)")))
            case 2:
                _ = try await f.database.recordPaymentEvent(f.event("d\(n)", order.id, .disputeOpened))
            case 3:
                _ = try await f.database.recordPaymentEvent(f.event("d\(n)", order.id, .disputeOpened))
                _ = try await f.database.recordPaymentEvent(f.event("c\(n)", order.id, .disputeClosed(won: random.next() % 2 == 0)))
            case 4:
                _ = try await f.database.recordPaymentEvent(
                    f.event("r\(n)", order.id, .refunded(totalRefunded: order.total / 3, refundID: "re_\(n)")))
                _ = try await f.database.recordPaymentEvent(f.event("rr\(n)", order.id, .refunded(totalRefunded: order.total, refundID: "re2_\(n)")))
            default:
                break
            }
        }
        return (f, sellers)
    }

    @Test("Balances, sales days, products per period and customers match the sale lines", arguments: [1, 2, 3] as [UInt64])
    func matchTheLines(seed: UInt64) async throws {
        let (f, sellers) = try await history(seed: seed)
        var lines = try await lines(f)
        #expect(lines.contains { $0.status == .refunded } && lines.contains { $0.status == .partiallyRefunded })
        #expect(lines.contains { $0.status == .disputed } || lines.contains { $0.status == .completed || $0.status == .paid })

        // Payouts: the kept totals and the refunded or disputed orders against every line, with
        // their shares worked out when read, kept (a few at a time), and changed again after.
        func balancesMatch(_ note: String) async throws {
            let everyLine = try await f.database.writer.read { db in try AppDatabase.payoutLines(sellerID: nil, in: db) }
            #expect(try await f.database.sellerBalances() == Payouts.balances(everyLine), "\(note)")
            for seller in sellers {
                #expect(
                    try await f.database.sellerBalances(sellerID: seller.id) == Payouts.balances(everyLine, sellerID: seller.id),
                    "\(note)")
            }
        }
        try await balancesMatch("none settled")
        // Three orders' rows: one per seller with a line in each.
        #expect(try await f.database.settleMoneyShares(limit: 3) >= 3)
        try await balancesMatch("three settled")
        while try await f.database.settleMoneyShares(limit: 3) > 0 {}
        #expect(try await f.count("SELECT COUNT(*) FROM seller_money_exceptions WHERE refunds IS NULL") == 0)
        try await balancesMatch("all settled")
        // A settled order refunded further, and a settled dispute closed, are worked out again.
        let partial = try #require(lines.first { $0.status == .partiallyRefunded }?.orderID)
        let total = try #require(try await f.database.order(id: partial)).total
        _ = try await f.database.recordPaymentEvent(f.event("more", partial, .refunded(totalRefunded: total - 1, refundID: "re_more")))
        if let disputed = lines.first(where: { $0.status == .disputed })?.orderID {
            _ = try await f.database.recordPaymentEvent(f.event("close", disputed, .disputeClosed(won: true)))
        }
        #expect(try await f.count("SELECT COUNT(*) FROM seller_money_exceptions WHERE refunds IS NULL") > 0)
        try await balancesMatch("changed after settling")
        while try await f.database.settleMoneyShares() > 0 {}
        try await balancesMatch("settled again")
        lines = try await self.lines(f)

        let now = f.clock.now()
        for seller in sellers {
            let sold = lines.filter { $0.sellerID == seller.id && $0.sold }
            // Days: revenue and distinct orders per UTC day and currency.
            let since = now.addingTimeInterval(-400 * 86400)
            var expectedDays: [String: (Int, Set<String>)] = [:]
            for line in sold where line.paidAt! >= SalesStats.Period.day.start(of: since) {
                let key = "\(SalesStats.Period.day.start(of: line.paidAt!).timeIntervalSince1970) \(line.currency)"
                expectedDays[key, default: (0, [])].0 += line.sellerAmount
                expectedDays[key, default: (0, [])].1.insert(line.orderID)
            }
            let days = try await f.database.salesDays(sellerID: seller.id, since: since)
            #expect(days.count == expectedDays.count)
            for day in days {
                let expected = expectedDays["\(day.day.timeIntervalSince1970) \(day.currency)"]
                #expect(expected?.0 == day.revenue && expected?.1.count == day.orders, "\(day)")
            }
            // Products, for each period from its chart's first bucket.
            for period in SalesStats.Period.allCases {
                let start = period.starts(endingAt: now).first!
                var expected: [String: (revenue: Int, sold: Int, orders: Set<String>)] = [:]
                for line in sold where line.paidAt! >= start {
                    expected["\(line.productID) \(line.currency)", default: (0, 0, [])].revenue += line.sellerAmount
                    expected["\(line.productID) \(line.currency)", default: (0, 0, [])].sold += 1
                    expected["\(line.productID) \(line.currency)", default: (0, 0, [])].orders.insert(line.orderID)
                }
                let products = try await f.database.salesProducts(sellerID: seller.id, period: period, since: start)
                #expect(products.count == expected.count, "\(period)")
                for product in products {
                    let want = expected["\(product.productID) \(product.currency)"]
                    #expect(
                        want?.revenue == product.revenue && want?.sold == product.sold && want?.orders.count == product.orders,
                        "\(period) \(product)")
                    #expect(product.title.hasPrefix("P"))
                }
            }
            // Customers: per buyer and currency, most recent first.
            var customers: [String: (orders: Set<String>, spent: Int, first: Date, last: Date, email: String)] = [:]
            for line in sold {
                let key = "\(line.buyerID) \(line.currency)"
                var entry = customers[key] ?? ([], 0, line.paidAt!, line.paidAt!, line.buyerEmail)
                entry.orders.insert(line.orderID)
                entry.spent += line.sellerAmount
                entry.first = min(entry.first, line.paidAt!)
                entry.last = max(entry.last, line.paidAt!)
                customers[key] = entry
            }
            let kept = try await f.database.customers(sellerID: seller.id, limit: 100)
            #expect(kept.count == customers.count)
            #expect(kept.map(\.lastPaidAt) == kept.map(\.lastPaidAt).sorted(by: >))
            for customer in kept {
                let want = customers.values.first { $0.email == customer.email && $0.last == customer.lastPaidAt }
                #expect(
                    want?.orders.count == customer.orders && want?.spent == customer.spent && want?.first == customer.firstPaidAt,
                    "\(customer)")
            }
            // Their orders, newest first, page by page.
            var listed: [String] = []
            var cursor: String?
            repeat {
                let page = try await f.database.orders(.seller(seller.id), limit: 7, after: cursor)
                listed += page.map(\.id)
                cursor = page.count == 7 ? page.last?.id : nil
            } while cursor != nil
            let theirs = try await f.database.writer.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT id FROM orders WHERE id IN (SELECT order_id FROM order_items WHERE seller_id = ?)
                        ORDER BY created_at DESC, id DESC
                        """, arguments: [seller.id])
            }
            #expect(listed == theirs && !theirs.isEmpty)
        }
    }

    @Test("The migration counts what was sold before it the way the triggers count what comes after")
    func backfillMatchesTriggers() async throws {
        let (f, _) = try await history(seed: 7)
        let tables = ["seller_orders", "seller_sales_days", "seller_product_sales", "seller_customers", "seller_money", "seller_money_exceptions"]
        func contents() async throws -> [String: [[String]]] {
            try await f.database.writer.read { db in
                var all: [String: [[String]]] = [:]
                for table in tables {
                    // Rows a refund brought to nothing are kept by the triggers; the backfill makes none.
                    let live = ["seller_sales_days": "orders", "seller_product_sales": "sold", "seller_money": "lines"][table]
                    all[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table)\(live.map { " WHERE \($0) != 0" } ?? "")")
                        .map { row in row.databaseValues.map(\.description) }.sorted { $0.joined() < $1.joined() }
                }
                return all
            }
        }
        let kept = try await contents()
        #expect(kept["seller_money_exceptions"]?.isEmpty == false && kept["seller_customers"]?.isEmpty == false)
        try await f.database.writer.write { db in
            for table in tables { try db.execute(sql: "DROP TABLE \(table)") }
            try db.execute(
                sql: """
                    DROP TRIGGER order_items_seller_orders; DROP TRIGGER orders_sales_figures; DROP TRIGGER orders_money_figures;
                    DROP TRIGGER orders_money_shares
                    """)
            try db.execute(sql: "CREATE INDEX orders_on_buyer_id ON orders (buyer_id); DROP INDEX orders_buyer_created; DROP INDEX orders_status_created")
            try db.execute(sql: Migrations.sellerFiguresSQL)
        }
        #expect(try await contents() == kept)
    }
}
