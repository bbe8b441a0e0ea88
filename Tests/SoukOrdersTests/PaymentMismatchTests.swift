import Foundation
import SoukCore
import SoukDatabase
import SoukOrders
import SoukPayments
import Synchronization
import Testing

/// A payment is bound to its order by the provider's own checkout, the amount and the currency:
/// anything else grants nothing, is kept for the operator and refunded by a job.
@Suite("Payments that do not match their order")
struct PaymentMismatchTests {
    /// The attacks: another checkout naming this order, a cent instead of the total, another
    /// currency, no checkout at all, no amount.
    static let attacks: [(name: String, forge: @Sendable (Order) -> Payment)] = [
        ("another checkout", { Payment(id: "pi_x", checkoutID: "cs_elsewhere", amount: $0.total, currency: $0.currency, claimedOrderID: $0.id) }),
        ("one cent", { Payment(id: "pi_x", checkoutID: $0.providerSessionID, amount: 1, currency: $0.currency) }),
        ("another currency", { Payment(id: "pi_x", checkoutID: $0.providerSessionID, amount: $0.total, currency: "JPY") }),
        ("no checkout", { Payment(id: "pi_x", checkoutID: nil, amount: $0.total, currency: $0.currency, claimedOrderID: $0.id) }),
        ("no amount", { Payment(id: "pi_x", checkoutID: $0.providerSessionID, amount: nil, currency: nil) }),
    ]

    @Test("Each forged payment: order unpaid, no grant, no fulfil job; recorded once, refund queued, admins told", arguments: 0..<5)
    func forged(_ index: Int) async throws {
        let (name, forge) = Self.attacks[index]
        let f = try OrdersFixture(provider: "stripe")
        let admin = try await f.admin()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1999, stock: 3)
        let order = try await f.placedOrder(try await f.buyer("b@example.com"), [(product, 1)])
        let payment = forge(order)
        // Another checkout is found by what it claims (metadata), the others by the session.
        let reference: OrderReference = payment.checkoutID == order.providerSessionID ? .session(order.providerSessionID!) : .session(payment.checkoutID ?? "none")
        let event = PaymentEvent(provider: "stripe", id: "evt_forged", type: "checkout.session.completed", order: reference, effect: .paid(payment))

        let outcome = try await f.database.recordPaymentEvent(event)
        guard case .mismatched(let orderID, let mismatchID, let reason) = outcome else {
            Issue.record("\(name): \(outcome)")
            return
        }
        #expect(orderID == order.id, "\(name)")
        #expect(try await f.status(order.id) == .created, "\(name): the order stays unpaid")
        #expect(try await f.database.grants(orderID: order.id).isEmpty, "\(name): nothing granted")
        #expect(try await f.jobs(kind: "fulfil").isEmpty)
        #expect(try await f.salesCount(product) == 0)
        #expect(try await f.stock(product) == 2, "the order still holds its stock, for a real payment")

        let mismatches = try await f.database.paymentMismatches(orderID: order.id)
        #expect(mismatches.map(\.id) == [mismatchID])
        #expect(mismatches.first?.refundState == .queued && mismatches.first?.reason == reason)
        #expect(mismatches.first?.payment == payment)
        let refunds = try await f.jobs(kind: OrderJobKind.mismatchRefund)
        #expect(try refunds.map { try $0.decodePayload(MismatchRefundPayload.self) } == [MismatchRefundPayload(mismatchID: mismatchID)])
        let told = try await f.database.notifications(userID: admin.id).filter { $0.type != "seller.pending" }
        #expect(told.count == 1 && told.first?.type == "payment.mismatch", "\(name): \(told)")
        #expect(told.first?.body.contains(reason) == true)
        #expect(try await f.count("SELECT COUNT(*) FROM payment_events WHERE outcome = 'mismatched' AND detail = ?", [reason]) == 1)

        // The same payment reported again (another event id, the success page): the same mismatch.
        let again = try await f.database.recordPaymentEvent(
            PaymentEvent(provider: "stripe", id: "evt_forged_again", type: "checkout.session.completed", order: reference, effect: .paid(payment)))
        #expect(again == .mismatched(orderID: order.id, mismatchID: mismatchID, reason: reason))
        #expect(try await f.database.paymentMismatches(orderID: order.id).count == 1)
        #expect(try await f.jobs(kind: OrderJobKind.mismatchRefund).count == 1)

        // The refused payment never pays later, even in a matching event.
        let matching = Payment(id: "pi_x", checkoutID: order.providerSessionID, amount: order.total, currency: order.currency)
        let later = try await f.database.recordPaymentEvent(f.event("evt_later", order.id, .paid(matching)))
        #expect(later == .mismatched(orderID: order.id, mismatchID: mismatchID, reason: reason))
        #expect(try await f.status(order.id) == .created)

        // A real payment (another payment id) still pays the order.
        let real = try await f.database.recordPaymentEvent(f.event("evt_real", order.id, f.payment(order, "pi_real")))
        #expect(real == .applied(orderID: order.id, status: .paid))
    }

    @Test("A payment claiming an order of another provider, or no order at all, is not this store's: ignored")
    func notOurs() async throws {
        let f = try OrdersFixture(provider: "stripe")
        let order = try await f.placedOrder(try await f.buyer("b@example.com"), [(try await f.product("P", by: try await f.seller("s@example.com")), 1)])
        let foreign = Payment(id: "pi_f", checkoutID: "cs_f", amount: order.total, currency: order.currency, claimedOrderID: "ord_nope")
        let outcome = try await f.database.recordPaymentEvent(
            PaymentEvent(provider: "stripe", id: "e", type: "t", order: .session("cs_f"), effect: .paid(foreign)))
        #expect(outcome == .ignored(reason: "no order matches this event"))
        #expect(try await f.jobs(kind: OrderJobKind.mismatchRefund).isEmpty)
    }

    @Test("The refund job gives the payment back once, whole, with a stable idempotency key; a refusal is left to the operator")
    func refundJob() async throws {
        let refundCalls = Mutex<Int>(0)
        let transport = RecordingTransport { request in
            if request.url.path == "/v1/refunds" {
                let n = refundCalls.withLock { $0 += 1; return $0 }
                if request.form["payment_intent"] == "pi_refused" {
                    return RecordingTransport.json(400, #"{"error":{"message":"Charge ch_1 has already been refunded.","type":"invalid_request_error"}}"#)
                }
                return RecordingTransport.json(200, #"{"id":"re_\#(n)","object":"refund","status":"succeeded"}"#)
            }
            return RecordingTransport.json(404, #"{"error":{"message":"no"}}"#)
        }
        let f = try OrdersFixture(provider: "stripe")
        let admin = try await f.admin()
        let money = await MoneyPath(f, stripeTransport: transport)
        let order = try await f.placedOrder(try await f.buyer("b@example.com"), [(try await f.product("P", by: try await f.seller("s@example.com"), price: 4000), 1)])
        let cent = Payment(id: "pi_cent", checkoutID: order.providerSessionID, amount: 1, currency: "usd")
        _ = try await f.database.recordPaymentEvent(
            PaymentEvent(provider: "stripe", id: "e1", type: "t", order: .session(order.providerSessionID!), effect: .paid(cent)))
        try await money.runJobs()
        let sent = transport.requests.filter { $0.url.path == "/v1/refunds" }
        #expect(sent.count == 1)
        #expect(sent.first?.form["payment_intent"] == "pi_cent" && sent.first?.form["amount"] == "1")
        let key = try #require(sent.first?.headers["Idempotency-Key"])
        #expect(key.hasPrefix("souk-mismatch-pmm_"))
        let refunded = try #require(try await f.database.paymentMismatches(orderID: order.id).first)
        #expect(refunded.refundState == .refunded && refunded.refundID == "re_1")
        // Run again: nothing more is asked of Stripe.
        try await money.runJobs()
        #expect(transport.requests.filter { $0.url.path == "/v1/refunds" }.count == 1)
        #expect(try await f.status(order.id) == .created)

        // Stripe refuses: marked failed with its message, the admins told to refund by hand.
        let refused = Payment(id: "pi_refused", checkoutID: "cs_other", amount: 4000, currency: "USD", claimedOrderID: order.id)
        _ = try await f.database.recordPaymentEvent(
            PaymentEvent(provider: "stripe", id: "e2", type: "t", order: .session("cs_other"), effect: .paid(refused)))
        try await money.runJobs()
        let failed = try #require(try await f.database.paymentMismatches(orderID: order.id).first { $0.payment.id == "pi_refused" })
        #expect(failed.refundState == .failed)
        #expect(failed.lastError?.contains("already been refunded") == true)
        #expect(try await f.database.notifications(userID: admin.id).contains { $0.title.contains("Refund it by hand") })
    }
}
