import Foundation
import SoukCore
import Testing

/// The fulfilment plan, decided without a database (issue 11).
@Suite("Decisions: fulfilment")
struct FulfilmentDecisionTests {
    typealias F = Fixtures

    /// Three license units and a book from one seller, a font from another.
    static let twoSellersLines = [
        F.item("oi_1", product: "prod_app", kind: .license, quantity: 3),
        F.item("oi_2", product: "prod_font", seller: "usr_other", kind: .license),
        F.item("oi_3", product: "prod_book"),
    ]

    static let receipt = try! JobRequest(kind: "email", payload: ["order_id": "ord_1"], dedupeKey: "receipt:ord_1")

    func plan(_ order: Order, before: Bool = false, grants: [String: String] = [:], limits: [String: Int] = [:])
        -> FulfilmentPlan
    {
        FulfilmentDecision.plan(
            order: order, fulfilledBefore: before, activeGrants: grants, activationLimits: limits, followUps: [Self.receipt])
    }

    @Test("A paid order: one key per unit of each license line, fulfilled, the buyer told (in the app), receipt queued")
    func deliver() {
        let order = F.order(.paid, items: Self.twoSellersLines)
        let planned = plan(order, grants: ["oi_1": "gr_1", "oi_2": "gr_2", "oi_3": "gr_3"], limits: ["prod_app": 2, "prod_font": 0])
        guard case .deliver(let keys, let markFulfilled, let notices, let followUps) = planned else {
            Issue.record("expected a delivery, got \(planned)")
            return
        }
        #expect(keys.map { "\($0.grantID)#\($0.unit)" } == ["gr_1#0", "gr_1#1", "gr_1#2", "gr_2#0"])
        #expect(keys.map(\.seats) == [2, 2, 2, nil], "0 is unlimited")
        #expect(markFulfilled)
        #expect(notices.map(\.userID) == ["usr_buyer"])
        #expect(notices.map(\.type) == [.orderFulfilled] && notices.map(\.email) == [false], "the receipt is the e-mail")
        #expect(notices.map(\.dedupeKey) == ["order_paid:ord_1"])
        #expect(followUps == [Self.receipt])
    }

    @Test("A payment tells the buyer (in the app) and each seller of their own lines (by e-mail too)")
    func paidNotices() {
        let order = F.order(.created, items: Self.twoSellersLines)
        let notices = PaidOrderNotices.notices(for: order)
        #expect(notices.map(\.userID) == ["usr_buyer", "usr_other", "usr_seller"])
        #expect(notices.allSatisfy { $0.type == .orderPaid })
        #expect(notices.map(\.email) == [false, true, true])
        #expect(notices.map(\.dedupeKey) == ["order.paid:ord_1:usr_buyer", "new_sale:ord_1:usr_other", "new_sale:ord_1:usr_seller"])
        #expect(notices[2].body.hasPrefix("3 × Title of prod_app, 1 × Title of prod_book — your share "))
        #expect(notices[1].title == "New sale")
        let test = F.order(.created, provider: "test", items: [F.item("oi_1", kind: .license, quantity: 2)])
        #expect(PaidOrderNotices.notices(for: test).last?.title == "New TEST sale (no money moved)")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var order: Order
        var before: Bool
        var expected: FulfilmentPlan?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "not paid", order: F.order(.created), before: false, expected: .nothing),
        Case(name: "refunded: access gone", order: F.order(.refunded, refunded: 1000), before: false, expected: .nothing),
        Case(name: "expired", order: F.order(.expired), before: true, expected: .nothing),
        Case(name: "delivered before, paid again after a won dispute", order: F.order(.paid), before: true, expected: .catchUp(markFulfilled: true)),
        Case(name: "delivered before and completed: a retried job", order: F.order(.completed), before: true, expected: .catchUp(markFulfilled: false)),
        Case(name: "disputed before delivery: delivered, status kept", order: F.order(.disputed), before: false, expected: nil),
    ]

    @Test("What fulfilling does in each state", arguments: cases)
    func states(_ c: Case) {
        let planned = plan(c.order, before: c.before)
        if let expected = c.expected {
            #expect(planned == expected)
        } else {
            guard case .deliver(_, let markFulfilled, _, _) = planned else { Issue.record("expected a delivery"); return }
            #expect(!markFulfilled)
        }
    }

    @Test("A revoked grant gets no key")
    func revoked() {
        let order = F.order(.paid, provider: "test", items: [F.item("oi_1", kind: .license, quantity: 2)])
        guard case .deliver(let keys, _, _, _) = plan(order, grants: [:]) else { Issue.record("expected a delivery"); return }
        #expect(keys.isEmpty)
    }
}
