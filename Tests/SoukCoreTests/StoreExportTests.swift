import Foundation
import SoukCore
import Testing

/// The export's order lines add up to the payouts table, line by line (no database).
@Suite("Store export tables")
struct StoreExportTests {
    typealias F = Fixtures

    func order(_ id: String, _ status: OrderStatus, refunded: Int = 0, provider: String = "stripe", items: [OrderItem])
        -> Order
    {
        var order = F.order(status, refunded: refunded, provider: provider, items: items)
        order.id = id
        order.paidAt = status == .created ? nil : F.now
        return order
    }

    func column(_ table: ExportTable, _ name: String) -> Int { table.columns.firstIndex(of: name)! }

    @Test("Summing payout_owed_minor over counted lines gives each seller's balance; test orders and unpaid ones do not count")
    func ordersReconcileWithPayouts() throws {
        let orders = [
            order(
                "ord_a", .partiallyRefunded, refunded: 333,
                items: [F.item("oi_1", seller: "usr_alice", unit: 1000, fee: 100), F.item("oi_2", seller: "usr_bob", unit: 2001, fee: 200)]),
            order("ord_b", .disputed, items: [F.item("oi_3", seller: "usr_alice", unit: 700, fee: 70)]),
            order("ord_c", .completed, provider: "test", items: [F.item("oi_4", seller: "usr_alice", unit: 5000)]),
            order("ord_d", .created, items: [F.item("oi_5", seller: "usr_alice", unit: 900)]),
            order("ord_e", .refunded, refunded: 999, items: [F.item("oi_6", seller: "usr_bob", unit: 999, fee: 99)]),
        ]
        let lines = orders.filter(Payouts.counts).flatMap { order in
            order.items.map {
                PayoutLine(
                    orderID: order.id, orderStatus: order.status, orderTotal: order.total, orderRefunded: order.refundedAmount,
                    currency: order.currency, sellerID: $0.sellerID, sellerName: $0.sellerID, sellerEmail: "", amount: $0.amount,
                    feeAmount: $0.feeAmount, sellerAmount: $0.sellerAmount)
            }
        }
        for sellerID in [nil, "usr_alice", "usr_bob"] as [String?] {
            let balances = Payouts.balances(lines, sellerID: sellerID)
            let snapshot = ExportSnapshot(
                sellerID: sellerID, products: [], orders: orders, reviews: [], licenses: [], balances: balances,
                accounts: [:], takenAt: F.now)
            let table = StoreExport.table(.orders, from: snapshot)
            var owed: [String: Int] = [:]
            var onHold: [String: Int] = [:]
            for row in table.rows where row[column(table, "counts_in_payouts")] == .bool(true) {
                guard case .text(let seller) = row[column(table, "seller_id")],
                    case .integer(let lineOwed) = row[column(table, "payout_owed_minor")],
                    case .integer(let lineHeld) = row[column(table, "payout_on_hold_minor")]
                else { Issue.record("bad row \(row)"); continue }
                owed[seller, default: 0] += lineOwed
                onHold[seller, default: 0] += lineHeld
            }
            #expect(owed == Dictionary(uniqueKeysWithValues: balances.map { ($0.sellerID, $0.owed) }), "scope \(sellerID ?? "all")")
            #expect(onHold == Dictionary(uniqueKeysWithValues: balances.map { ($0.sellerID, $0.onHold) }))
            let sellers = Set(table.rows.map { $0[column(table, "seller_id")] })
            if let sellerID { #expect(sellers == [.text(sellerID)], "a seller's export holds only their lines") }
        }
        let all = StoreExport.table(
            .orders,
            from: ExportSnapshot(
                sellerID: nil, products: [], orders: orders, reviews: [], licenses: [], balances: [], accounts: [:],
                takenAt: F.now))
        let notCounted = all.rows.filter { $0[column(all, "counts_in_payouts")] == .bool(false) }
            .map { $0[column(all, "order_id")] }
        #expect(notCounted == [.text("ord_c"), .text("ord_d")], "the test order and the unpaid one are written, marked as not counted")
    }
}
