import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("Recording payment events")
struct PaymentEventTests {
    @Test("A sale reaches search and the kept pages at the next settle, once for a burst; an edit at once")
    func salesSettle() async throws {
        let f = try OrdersFixture(provider: "stripe")
        let seller = try await f.seller("s@example.com")
        let a = try await f.product("A", by: seller, price: 300)
        let b = try await f.product("B", by: seller, price: 200)
        let buyer = try await f.buyer("b@example.com")
        let orders = [
            try await f.placedOrder(buyer, [(a, 1)]), try await f.placedOrder(buyer, [(a, 2), (b, 1)]),
        ]
        try await f.database.settleSales()
        let before = try await f.database.storePagesGeneration()
        var popular = ProductQuery()
        popular.sort = .popular
        let counts = { try await f.database.search(popular).hits.map { [$0.product.title: $0.product.salesCount] } }
        let initial = try await counts()
        #expect(initial == [["A": 0], ["B": 0]] || initial == [["B": 0], ["A": 0]])

        for (index, order) in orders.enumerated() {
            let outcome = try await f.database.recordPaymentEvent(
                f.event("evt_\(index)", order.id, f.payment(order, "pi_\(index)")))
            #expect(outcome == .applied(orderID: order.id, status: .paid))
        }
        // Counted at once where it is read directly; search and the kept pages have not moved.
        #expect(try await f.salesCount(a) == 3)
        #expect(try await f.database.storePagesGeneration() == before)
        #expect(try await f.count("SELECT COUNT(*) FROM sales_changes") == 2, "one note per product, however many sales")

        #expect(try await f.database.settleSales() == 2)
        let settled = try await f.database.storePagesGeneration()
        #expect(settled != before)
        #expect(try await counts() == [["A": 3], ["B": 1]])
        #expect(try await f.database.settleSales() == 0, "nothing new: no write")
        #expect(try await f.database.storePagesGeneration() == settled)

        // A seller's edit still reaches search in its own transaction.
        try await f.database.writer.write { db in
            try db.execute(
                sql: "UPDATE products SET title = 'A, revised', updated_at = ? WHERE id = ?",
                arguments: [f.clock.now().addingTimeInterval(1), a.id])
        }
        #expect(try await f.database.storePagesGeneration() != settled)
        #expect(try await counts().first == ["A, revised": 3])
    }

    @Test("Paid: one grant per line, sales counted, bought lines leave the cart, exactly one fulfil job")
    func paid() async throws {
        let f = try OrdersFixture(provider: "stripe")  // test sales are not counted
        let seller = try await f.seller("s@example.com")
        let a = try await f.product("A", by: seller, price: 300, stock: 10)
        let b = try await f.product("B", by: seller, price: 200)
        let extra = try await f.product("Extra", by: seller, price: 100)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(a, 2), (b, 1)])
        // Added after checkout: not bought, so it stays in the cart.
        _ = try await f.cart(buyer, [(extra, 1)])
        f.clock.advance(60)

        let outcome = try await f.database.recordPaymentEvent(f.event("evt_1", order.id, f.payment(order, "pi_1")))
        #expect(outcome == .applied(orderID: order.id, status: .paid))
        let paid = try #require(try await f.database.order(id: order.id))
        #expect(paid.status == .paid)
        #expect(paid.providerPaymentID == "pi_1")
        #expect(paid.paidAt == f.clock.now())
        #expect(paid.updatedAt == f.clock.now())

        let grants = try await f.database.grants(orderID: order.id)
        #expect(grants.count == 2)
        #expect(Set(grants.map(\.orderItemID)) == Set(order.items.map(\.id)))
        #expect(Set(grants.map(\.productID)) == [a.id, b.id])
        #expect(grants.allSatisfy { $0.userID == buyer.id && $0.isActive && $0.orderID == order.id })

        #expect(try await f.salesCount(a) == 2)
        #expect(try await f.salesCount(b) == 1)
        #expect(try await f.salesCount(extra) == 0)
        #expect(try await f.stock(a) == 8, "paying keeps the held stock taken")

        let cart = try #require(try await f.database.cart(of: .user(buyer.id)))
        #expect(cart.lines.map(\.product.id) == [extra.id])

        let fulfil = try await f.jobs(kind: "fulfil")
        #expect(fulfil.count == 1)
        #expect(try fulfil.first?.decodePayload(OrderJobPayload.self) == OrderJobPayload(orderID: order.id))
        #expect(fulfil.first?.runAt == f.clock.now())

        // The same event again changes nothing.
        #expect(try await f.database.recordPaymentEvent(f.event("evt_1", order.id, f.payment(order, "pi_1"))) == .duplicate)
        // Another paid event (a second id): recorded, ignored.
        let second = try await f.database.recordPaymentEvent(f.event("evt_2", order.id, f.payment(order, "pi_2")))
        guard case .ignored = second else { Issue.record("second payment: \(second)"); return }
        #expect(try await f.database.grants(orderID: order.id).count == 2)
        #expect(try await f.salesCount(a) == 2)
        #expect(try await f.jobs(kind: "fulfil").count == 1)
        #expect(try await f.database.order(id: order.id)?.providerPaymentID == "pi_1")
        #expect(try await f.count("SELECT COUNT(*) FROM payment_events WHERE order_id = ?", [order.id]) == 2)
        #expect(
            try await f.count("SELECT COUNT(*) FROM payment_events WHERE event_id = 'evt_2' AND outcome = 'ignored'") == 1)
    }

    @Test("10 concurrent deliveries of one event: one applied, nine duplicates")
    func concurrentDeliveries() async throws {
        let f = try OrdersFixture(provider: "stripe")  // test sales are not counted
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 300)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(product, 3)])
        let event = f.event("evt_once", order.id, f.payment(order, "pi_once"))
        let database = f.database
        let outcomes = try await withThrowingTaskGroup(of: PaymentEventOutcome.self) { group in
            for _ in 0..<10 { group.addTask { try await database.recordPaymentEvent(event) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .applied(orderID: order.id, status: .paid) }.count == 1)
        #expect(outcomes.filter { $0 == .duplicate }.count == 9)
        #expect(try await f.salesCount(product) == 3)
        #expect(try await f.database.grants(orderID: order.id).count == 1)
        #expect(try await f.jobs(kind: "fulfil").count == 1)
        #expect(try await f.count("SELECT COUNT(*) FROM payment_events") == 1)
    }

    @Test("Events are keyed per provider; unknown orders and types are recorded as ignored")
    func ignoredEvents() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 300)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(product, 1)])

        // An event from another provider does not find a test-provider order.
        let stripe = try await f.database.recordPaymentEvent(
            f.event("evt_x", order.id, f.payment(order, "pi"), provider: "stripe"))
        guard case .ignored = stripe else { Issue.record("\(stripe)"); return }
        #expect(try await f.status(order.id) == .created)
        // The same id from the test provider is a different event.
        #expect(
            try await f.database.recordPaymentEvent(f.event("evt_x", order.id, f.payment(order, "pi")))
                == .applied(orderID: order.id, status: .paid))

        let unknownOrder = try await f.database.recordPaymentEvent(f.event("evt_y", "ord_nope", f.payment(order, "pi")))
        #expect(unknownOrder == .ignored(reason: "no order matches this event"))
        let unknownType = try await f.database.recordPaymentEvent(
            PaymentEvent(provider: "test", id: "evt_z", type: "plan.created", order: nil, effect: nil))
        #expect(unknownType == .ignored(reason: "Souk does not act on plan.created events"))
        #expect(try await f.database.recordPaymentEvent(
            PaymentEvent(provider: "test", id: "evt_z", type: "plan.created", order: nil, effect: nil)) == .duplicate)
        #expect(try await f.count("SELECT COUNT(*) FROM payment_events WHERE outcome = 'ignored'") == 3)
    }

    @Test("Orders are found by session and by payment id too")
    func references() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 300)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(product, 1)], session: false)
        _ = try await f.database.attachCheckoutSession(orderID: order.id, sessionID: "cs_1", redirectURL: "https://pay/1")
        // The first session wins.
        let attached = try await f.database.attachCheckoutSession(orderID: order.id, sessionID: "cs_2", redirectURL: "https://pay/2")
        #expect(attached.providerSessionID == "cs_1" && attached.redirectURL == "https://pay/1")
        #expect(try await f.database.order(provider: "test", sessionID: "cs_1")?.id == order.id)
        #expect(try await f.database.order(provider: "stripe", sessionID: "cs_1") == nil)

        let bySession = PaymentEvent(provider: "test", id: "e1", type: "t", order: .session("cs_1"), effect: f.payment(attached, "pi_9"))
        #expect(try await f.database.recordPaymentEvent(bySession) == .applied(orderID: order.id, status: .paid))
        let byPayment = PaymentEvent(provider: "test", id: "e2", type: "t", order: .payment("pi_9"), effect: .disputeOpened)
        #expect(try await f.database.recordPaymentEvent(byPayment) == .applied(orderID: order.id, status: .disputed))
    }

    @Test("Pending keeps a created order waiting; failed and expired put the stock back once")
    func failedAndExpired() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 300, stock: 5)
        let buyer = try await f.buyer("b@example.com")

        let failing = try await f.placedOrder(buyer, [(product, 2)])
        #expect(try await f.database.recordPaymentEvent(f.event("p1", failing.id, .pending)) == .applied(orderID: failing.id, status: .created))
        #expect(try await f.stock(product) == 3)
        // Under way but unpaid: a job asks the provider later.
        let confirms = try await f.jobs(kind: "confirm_payment")
        #expect(confirms.count == 1)
        #expect(try confirms.first?.decodePayload(OrderJobPayload.self) == OrderJobPayload(orderID: failing.id))
        #expect(try await f.database.recordPaymentEvent(f.event("f1", failing.id, .failed)) == .applied(orderID: failing.id, status: .paymentFailed))
        #expect(try await f.stock(product) == 5)
        // Then the provider's session expires: failed → expired is legal, but the stock is not released twice.
        #expect(try await f.database.recordPaymentEvent(f.event("x1", failing.id, .expired)) == .applied(orderID: failing.id, status: .expired))
        #expect(try await f.stock(product) == 5)

        let other = try await f.buyer("c@example.com")
        let expiring = try await f.placedOrder(other, [(product, 1)])
        #expect(try await f.stock(product) == 4)
        #expect(try await f.database.recordPaymentEvent(f.event("x2", expiring.id, .expired)) == .applied(orderID: expiring.id, status: .expired))
        #expect(try await f.stock(product) == 5)
        // The expiry job finds it already expired.
        #expect(try await f.database.expireOrder(id: expiring.id) == false)
        #expect(try await f.stock(product) == 5)
        // Pending on an expired order is refused.
        guard case .ignored = try await f.database.recordPaymentEvent(f.event("p2", expiring.id, .pending)) else {
            Issue.record("pending after expiry was applied"); return
        }
    }

    @Test("An old expired or failed event arriving after the payment is ignored; nothing moves")
    func staleEventsAfterPayment() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 300, stock: 5)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.paidOrder(buyer, [(product, 2)])
        #expect(try await f.stock(product) == 3)
        for (id, effect) in [("late-expired", PaymentEffect.expired), ("late-failed", .failed), ("late-pending", .pending)] {
            let outcome = try await f.database.recordPaymentEvent(f.event(id, order.id, effect))
            #expect(outcome == .ignored(reason: "order \(order.id) is paid"), "\(id)")
        }
        #expect(try await f.status(order.id) == .paid)
        #expect(try await f.stock(product) == 3)
        #expect(try await f.database.grants(orderID: order.id).allSatisfy(\.isActive))

        // Also after fulfilment.
        _ = try await f.database.transitionOrder(id: order.id, to: .fulfilled)
        let outcome = try await f.database.recordPaymentEvent(f.event("later-expired", order.id, .expired))
        #expect(outcome == .ignored(reason: "order \(order.id) is fulfilled"))
        #expect(try await f.status(order.id) == .fulfilled)
        #expect(try await f.stock(product) == 3)
    }

    @Test("Refunds are cumulative: partial, then full; access is revoked only at the full refund")
    func refunds() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let a = try await f.product("A", by: seller, price: 1000)
        let b = try await f.product("B", by: seller, price: 2000)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.paidOrder(buyer, [(a, 1), (b, 1)])
        _ = try await f.database.transitionOrder(id: order.id, to: .fulfilled)

        let partial = try await f.database.recordPaymentEvent(
            f.event("r1", order.id, .refunded(totalRefunded: 1000, refundID: "re_1")))
        #expect(partial == .applied(orderID: order.id, status: .partiallyRefunded))
        var current = try #require(try await f.database.order(id: order.id))
        #expect(current.status == .partiallyRefunded && current.refundedAmount == 1000)
        #expect(current.refundableAmount == 2000)
        #expect(try await f.database.grants(orderID: order.id).allSatisfy(\.isActive))

        // The same refund again, under another event id: nothing more.
        let replay = try await f.database.recordPaymentEvent(
            f.event("r1-again", order.id, .refunded(totalRefunded: 1000, refundID: "re_1")))
        #expect(replay == .ignored(reason: "refund already recorded"))
        // An older total arriving late: nothing.
        let older = try await f.database.recordPaymentEvent(
            f.event("r0", order.id, .refunded(totalRefunded: 500, refundID: "re_0")))
        #expect(older == .ignored(reason: "refund already recorded"))
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 1000)

        f.clock.advance(1)
        let second = try await f.database.recordPaymentEvent(
            f.event("r2", order.id, .refunded(totalRefunded: 2500, refundID: "re_2")))
        #expect(second == .applied(orderID: order.id, status: .partiallyRefunded))
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 2500)

        f.clock.advance(10)
        let full = try await f.database.recordPaymentEvent(
            f.event("r3", order.id, .refunded(totalRefunded: 3000, refundID: "re_3")))
        #expect(full == .applied(orderID: order.id, status: .refunded))
        current = try #require(try await f.database.order(id: order.id))
        #expect(current.status == .refunded && current.refundedAmount == 3000 && current.refundableAmount == 0)
        let grants = try await f.database.grants(orderID: order.id)
        #expect(grants.count == 2)
        #expect(grants.allSatisfy { $0.revokedAt == f.clock.now() })

        let records = try await f.database.refunds(orderID: order.id)
        #expect(records.map(\.amount) == [1000, 1500, 500])
        #expect(records.map(\.providerRefundID) == ["re_1", "re_2", "re_3"])
        #expect(records.allSatisfy { $0.requestedBy == "provider" })

        // More than the total is capped, and a refunded order takes no more.
        let beyond = try await f.database.recordPaymentEvent(
            f.event("r4", order.id, .refunded(totalRefunded: 9999, refundID: "re_4")))
        #expect(beyond == .ignored(reason: "refund already recorded"))
        #expect(try await f.database.refunds(orderID: order.id).count == 3)
    }

    @Test("A refund reported above the order total refunds the total")
    func refundCapped() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let order = try await f.paidOrder(try await f.buyer("b@example.com"), [(product, 1)])
        let outcome = try await f.database.recordPaymentEvent(
            f.event("r", order.id, .refunded(totalRefunded: 1500, refundID: nil)))
        #expect(outcome == .applied(orderID: order.id, status: .refunded))
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 1000)
    }

    @Test("A refund of an unpaid order is ignored")
    func refundUnpaid() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let order = try await f.placedOrder(try await f.buyer("b@example.com"), [(product, 1)])
        let outcome = try await f.database.recordPaymentEvent(
            f.event("r", order.id, .refunded(totalRefunded: 1000, refundID: "re")))
        #expect(outcome == .ignored(reason: "order \(order.id) is created"))
        #expect(try await f.database.refunds(orderID: order.id).isEmpty)
    }

    @Test("Disputes: opened → disputed; won → back where it was; lost → refunded with access revoked")
    func disputes() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let buyer = try await f.buyer("b@example.com")

        let won = try await f.paidOrder(buyer, [(product, 1)])
        _ = try await f.database.transitionOrder(id: won.id, to: .fulfilled)
        #expect(try await f.database.recordPaymentEvent(f.event("d1", won.id, .disputeOpened)) == .applied(orderID: won.id, status: .disputed))
        // A second "opened" is refused (disputed → disputed is not a move).
        guard case .ignored = try await f.database.recordPaymentEvent(f.event("d1b", won.id, .disputeOpened)) else {
            Issue.record("a second dispute opened was applied"); return
        }
        #expect(try await f.database.recordPaymentEvent(f.event("d2", won.id, .disputeClosed(won: true))) == .applied(orderID: won.id, status: .fulfilled))
        #expect(try await f.status(won.id) == .fulfilled)
        #expect(try await f.database.grants(orderID: won.id).allSatisfy(\.isActive))
        // Closed again: not disputed any more.
        guard case .ignored = try await f.database.recordPaymentEvent(f.event("d3", won.id, .disputeClosed(won: false))) else {
            Issue.record("a dispute closed twice was applied"); return
        }
        #expect(try await f.status(won.id) == .fulfilled)

        // Partially refunded, disputed, won: partially refunded again.
        let partial = try await f.paidOrder(try await f.buyer("p@example.com"), [(product, 2)])
        _ = try await f.database.recordPaymentEvent(f.event("pr", partial.id, .refunded(totalRefunded: 500, refundID: "re_p")))
        _ = try await f.database.recordPaymentEvent(f.event("pd1", partial.id, .disputeOpened))
        #expect(try await f.database.recordPaymentEvent(f.event("pd2", partial.id, .disputeClosed(won: true))) == .applied(orderID: partial.id, status: .partiallyRefunded))
        #expect(try await f.database.order(id: partial.id)?.refundedAmount == 500)

        // Lost: the rest is refunded and access ends.
        let lost = try await f.paidOrder(try await f.buyer("l@example.com"), [(product, 3)])
        _ = try await f.database.recordPaymentEvent(f.event("lr", lost.id, .refunded(totalRefunded: 1000, refundID: "re_l")))
        f.clock.advance(1)
        _ = try await f.database.recordPaymentEvent(f.event("ld1", lost.id, .disputeOpened))
        #expect(try await f.status(lost.id) == .disputed)
        #expect(try await f.database.recordPaymentEvent(f.event("ld2", lost.id, .disputeClosed(won: false))) == .applied(orderID: lost.id, status: .refunded))
        let lostOrder = try #require(try await f.database.order(id: lost.id))
        #expect(lostOrder.status == .refunded && lostOrder.refundedAmount == 3000)
        #expect(try await f.database.grants(orderID: lost.id).allSatisfy { !$0.isActive })
        let records = try await f.database.refunds(orderID: lost.id)
        #expect(records.map(\.amount) == [1000, 2000])
        #expect(records.last?.requestedBy == "dispute" && records.last?.reason == "dispute lost")

        // Disputed before fulfilment, then won: back to paid, and fulfilment is queued again.
        let early = try await f.paidOrder(try await f.buyer("e@example.com"), [(product, 1)])
        _ = try await f.database.recordPaymentEvent(f.event("ed1", early.id, .disputeOpened))
        let fulfilJobs = try await f.jobs(kind: "fulfil").count
        #expect(try await f.database.recordPaymentEvent(f.event("ed2", early.id, .disputeClosed(won: true))) == .applied(orderID: early.id, status: .paid))
        let queued = try await f.jobs(kind: "fulfil")
        #expect(queued.count == fulfilJobs + 1)
        #expect(queued.filter { $0.state == .queued }.contains { (try? $0.decodePayload(OrderJobPayload.self)) == OrderJobPayload(orderID: early.id) })

        // A dispute on an unpaid order is ignored.
        let unpaid = try await f.placedOrder(try await f.buyer("u@example.com"), [(product, 1)])
        guard case .ignored = try await f.database.recordPaymentEvent(f.event("ud", unpaid.id, .disputeOpened)) else {
            Issue.record("a dispute on an unpaid order was applied"); return
        }
    }

    @Test("A late payment for an expired order whose stock is still there: paid, stock held again")
    func latePaymentWithStock() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let limited = try await f.product("Limited", by: seller, price: 1000, stock: 3)
        let unlimited = try await f.product("Unlimited", by: seller, price: 500)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(limited, 2), (unlimited, 1)])
        #expect(try await f.database.expireOrder(id: order.id))
        #expect(try await f.stock(limited) == 3)

        let outcome = try await f.database.recordPaymentEvent(f.event("late", order.id, f.payment(order, "pi_late")))
        #expect(outcome == .applied(orderID: order.id, status: .paid))
        #expect(try await f.status(order.id) == .paid)
        #expect(try await f.stock(limited) == 1)
        #expect(try await f.count("SELECT COUNT(*) FROM order_items WHERE order_id = ? AND stock_held", [order.id]) == 1)
        #expect(try await f.database.grants(orderID: order.id).count == 2)
        #expect(try await f.jobs(kind: "fulfil").count == 1)
        #expect(try await f.jobs(kind: "auto_refund").isEmpty)

        // The same after a failed payment (failed → paid).
        let other = try await f.buyer("c@example.com")
        let failed = try await f.placedOrder(other, [(limited, 1)])
        _ = try await f.database.recordPaymentEvent(f.event("fail", failed.id, .failed))
        #expect(try await f.stock(limited) == 1)
        #expect(try await f.database.recordPaymentEvent(f.event("retry", failed.id, f.payment(failed, "pi_r"))) == .applied(orderID: failed.id, status: .paid))
        #expect(try await f.stock(limited) == 0)
    }

    @Test("A late payment for an expired order whose stock is gone: refund queued, order stays expired")
    func latePaymentWithoutStock() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let limited = try await f.product("Limited", by: seller, price: 1000, stock: 2)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(limited, 2)])
        #expect(try await f.database.expireOrder(id: order.id))
        // Someone else buys one meanwhile.
        _ = try await f.paidOrder(try await f.buyer("c@example.com"), [(limited, 1)])
        #expect(try await f.stock(limited) == 1)

        let outcome = try await f.database.recordPaymentEvent(f.event("late", order.id, f.payment(order, "pi_late")))
        #expect(outcome == .refundQueued(orderID: order.id))
        let after = try #require(try await f.database.order(id: order.id))
        #expect(after.status == .expired)
        #expect(after.providerPaymentID == "pi_late")
        #expect(try await f.stock(limited) == 1, "nothing was taken")
        #expect(try await f.database.grants(orderID: order.id).isEmpty)
        let refunds = try await f.jobs(kind: "auto_refund")
        #expect(refunds.count == 1)
        #expect(try refunds.first?.decodePayload(OrderJobPayload.self) == OrderJobPayload(orderID: order.id))
        #expect(try await f.count("SELECT COUNT(*) FROM payment_events WHERE event_id = 'late' AND outcome = 'refund_queued'") == 1)

        // Another delivery of the payment (new id) does not queue a second refund.
        #expect(try await f.database.recordPaymentEvent(f.event("late-2", order.id, f.payment(order, "pi_late"))) == .refundQueued(orderID: order.id))
        #expect(try await f.jobs(kind: "auto_refund").count == 1)
    }
}
