import Crypto
import Foundation
import SoukCore
import SoukPayments
import Testing

/// Stripe's sample objects, read at test time.
enum StripeFixtures {
    static let directory = URL(fileURLWithPath: "/work/shared/fixtures/stripe")

    static func object(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A Stripe event envelope (from `event.json`) around `object`, as raw JSON bytes.
    static func event(_ type: String, id: String = "evt_test_1", object: [String: Any]) throws -> Data {
        var event = try Self.object("event")
        event["id"] = id
        event["type"] = type
        event["data"] = ["object": object]
        return try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
    }

    /// `checkout.session.json` with some fields replaced.
    static func session(_ changes: [String: Any]) throws -> [String: Any] {
        var session = try object("checkout.session")
        for (key, value) in changes { session[key] = value }
        return session
    }
}

@Suite("Stripe webhook signatures")
struct StripeSignatureTests {
    let secret = "whsec_test_secret"
    let body = Data(#"{"id":"evt_1","type":"checkout.session.completed"}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    var timestamp: Int { Int(now.timeIntervalSince1970) }

    func verify(_ header: String?, body: Data? = nil, secret: String? = nil, now: Date? = nil) -> StripeSignature.Failure? {
        do {
            try StripeSignature.verify(header: header, body: body ?? self.body, secret: secret ?? self.secret, now: now ?? self.now)
            return nil
        } catch {
            return error
        }
    }

    @Test("A valid header verifies; the signature is HMAC-SHA256 of \"{t}.{body}\" keyed by the whole secret")
    func valid() {
        let header = StripeSignature.header(body: body, timestamp: timestamp, secret: secret)
        #expect(verify(header) == nil)
        // Independently computed.
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(header == "t=\(timestamp),v1=\(hex)")
        #expect(verify("t=\(timestamp),v1=\(hex.uppercased())") == nil, "hex case does not matter")
        #expect(verify(" t=\(timestamp) , v1=\(hex) ") == nil, "spaces around parts are tolerated")
        // At the edges of the tolerance.
        #expect(verify(header, now: now.addingTimeInterval(300)) == nil)
        #expect(verify(header, now: now.addingTimeInterval(-300)) == nil)
    }

    @Test("Any of several v1 signatures may match (secret rolling); v0 and unknown schemes are ignored")
    func severalSignatures() {
        let good = StripeSignature.signature(body: body, timestamp: timestamp, secret: secret)
        let old = StripeSignature.signature(body: body, timestamp: timestamp, secret: "whsec_old")
        #expect(verify("t=\(timestamp),v1=\(old),v1=\(good)") == nil)
        #expect(verify("t=\(timestamp),v1=\(good),v1=\(old)") == nil)
        #expect(verify("t=\(timestamp),v0=\(good),v1=\(old)") == .mismatch, "only v1 counts")
        #expect(verify("t=\(timestamp),v0=\(good)") == .noV1Signature)
    }

    @Test("Wrong secret, tampered body, stale or future timestamps, missing parts: the right failure")
    func failures() {
        let header = StripeSignature.header(body: body, timestamp: timestamp, secret: secret)
        #expect(verify(header, secret: "whsec_other") == .mismatch)
        #expect(verify(header, body: Data(#"{"id":"evt_1","type":"checkout.session.completeD"}"#.utf8)) == .mismatch)
        var withSpace = body
        withSpace.append(Data(" ".utf8))
        #expect(verify(header, body: withSpace) == .mismatch, "signatures cover the exact bytes")
        #expect(verify(header, now: now.addingTimeInterval(301)) == .staleTimestamp)
        #expect(verify(header, now: now.addingTimeInterval(-301)) == .staleTimestamp, "a timestamp from the future")
        // A stale header is refused even when its signature is right for its own timestamp.
        let old = StripeSignature.header(body: body, timestamp: timestamp - 3600, secret: secret)
        #expect(verify(old) == .staleTimestamp)
        // A replayed signature with a fresh timestamp does not match.
        let v1 = StripeSignature.signature(body: body, timestamp: timestamp - 3600, secret: secret)
        #expect(verify("t=\(timestamp),v1=\(v1)") == .mismatch)

        #expect(verify(nil) == .missingHeader)
        #expect(verify("") == .missingHeader)
        let signature = StripeSignature.signature(body: body, timestamp: timestamp, secret: secret)
        #expect(verify("v1=\(signature)") == .malformedHeader)
        #expect(verify("t=yesterday,v1=\(signature)") == .malformedHeader)
        #expect(verify("t=\(timestamp)") == .noV1Signature)
        #expect(verify("t=\(timestamp),v1=") == .noV1Signature, "an empty v1 is no signature")
        #expect(verify("garbage") == .malformedHeader)
        #expect(verify("t=\(timestamp),v1=\(String(signature.dropLast()))") == .mismatch)
    }
}

@Suite("Stripe events")
struct StripeEventsTests {
    let paymentIntent = "pi_1PgafyB7WZ01zgkWSjxsAJo3"
    let sessionID = "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY"

    func parse(_ type: String, _ object: [String: Any], id: String = "evt_1") throws -> PaymentEvent {
        try StripeEvents.parse(try StripeFixtures.event(type, id: id, object: object), provider: "stripe")
    }

    @Test("checkout.session.completed, paid: the order by its session, what was paid, the payment intent to refund")
    func completedPaid() throws {
        let session = try StripeFixtures.session([
            "status": "complete", "payment_status": "paid", "metadata": ["order_id": "ord_meta"],
            "client_reference_id": "ord_ref", "amount_total": 1999, "currency": "eur",
        ])
        let event = try parse("checkout.session.completed", session, id: "evt_paid")
        #expect(event == PaymentEvent(
            provider: "stripe", id: "evt_paid", type: "checkout.session.completed", order: .session(sessionID),
            effect: .paid(
                Payment(id: paymentIntent, checkoutID: sessionID, amount: 1999, currency: "EUR", claimedOrderID: "ord_meta"))))

        // The metadata is only what the session claims; without it, the client reference.
        let byReference = try parse(
            "checkout.session.completed", try StripeFixtures.session(["payment_status": "paid", "client_reference_id": "ord_ref"]))
        #expect(byReference.order == .session(sessionID))
        guard case .paid(let claimed)? = byReference.effect else { Issue.record("\(byReference)"); return }
        #expect(claimed.claimedOrderID == "ord_ref")
        // The fixture has no amount: a payment that says nothing of its amount matches no order.
        #expect(claimed.amount == nil && claimed.currency == nil)

        // Nothing to pay (a 100 % coupon) counts as paid; no payment intent: the session id.
        let free = try parse(
            "checkout.session.completed",
            try StripeFixtures.session(["payment_status": "no_payment_required", "payment_intent": NSNull()]))
        guard case .paid(let freePayment)? = free.effect else { Issue.record("\(free)"); return }
        #expect(freePayment.id == sessionID)
    }

    @Test("checkout.session.completed, unpaid (a bank debit on its way): pending")
    func completedUnpaid() throws {
        let event = try parse(
            "checkout.session.completed",
            try StripeFixtures.session(["status": "complete", "payment_status": "unpaid", "metadata": ["order_id": "ord_1"]]))
        #expect(event.effect == .pending)
        #expect(event.order == .session(sessionID))
        // The fixture as it comes (open, unpaid).
        #expect(try parse("checkout.session.completed", try StripeFixtures.object("checkout.session")).effect == .pending)
    }

    @Test("Async payment succeeded → paid; failed → failed; session expired → expired")
    func asyncAndExpired() throws {
        let session = try StripeFixtures.session(["metadata": ["order_id": "ord_1"], "payment_status": "unpaid"])
        let succeeded = try parse("checkout.session.async_payment_succeeded", session)
        #expect(
            succeeded.effect
                == .paid(Payment(id: paymentIntent, checkoutID: sessionID, amount: nil, currency: nil, claimedOrderID: "ord_1")))
        #expect(succeeded.order == .session(sessionID))
        #expect(try parse("checkout.session.async_payment_failed", session).effect == .failed)
        let expired = try parse("checkout.session.expired", try StripeFixtures.session(["status": "expired", "client_reference_id": "ord_2"]))
        #expect(expired.effect == .expired)
        #expect(expired.order == .session(sessionID))
        // A completed event for an expired session (retrieved on return) is expired too.
        #expect(try parse("checkout.session.completed", try StripeFixtures.session(["status": "expired"])).effect == .expired)
    }

    @Test("charge.refunded: the cumulative amount refunded and the latest refund's id")
    func chargeRefunded() throws {
        var charge = try StripeFixtures.object("charge")
        let refund = try StripeFixtures.object("refund")
        charge["amount"] = 3000
        charge["amount_refunded"] = 1200
        charge["refunded"] = false
        charge["payment_intent"] = "pi_123"
        charge["refunds"] = ["object": "list", "data": [refund], "has_more": false]
        let event = try parse("charge.refunded", charge)
        #expect(event.effect == .refunded(totalRefunded: 1200, refundID: "re_1Pgc72B7WZ01zgkWqPvrRrPE"))
        #expect(event.order == .payment("pi_123"), "a charge names its payment intent")

        charge["metadata"] = ["order_id": "ord_9"]
        #expect(try parse("charge.refunded", charge).order == .payment("pi_123"), "the payment intent wins over what metadata claims")
        charge["payment_intent"] = NSNull()
        #expect(try parse("charge.refunded", charge).order == .order("ord_9"), "metadata only for a charge without an intent")
        charge["payment_intent"] = "pi_123"

        // Without the expanded refunds list: no refund id, still the amount.
        charge["refunds"] = nil
        #expect(try parse("charge.refunded", charge).effect == .refunded(totalRefunded: 1200, refundID: nil))
        // The fixture as it comes: nothing refunded, no payment intent.
        let plain = try parse("charge.refunded", try StripeFixtures.object("charge"))
        #expect(plain.effect == .refunded(totalRefunded: 0, refundID: nil))
        #expect(plain.order == nil)
    }

    @Test("Disputes: created → opened; closed won / lost")
    func disputes() throws {
        var dispute = try StripeFixtures.object("dispute")
        dispute["payment_intent"] = "pi_77"
        let created = try parse("charge.dispute.created", dispute)
        #expect(created.effect == .disputeOpened)
        #expect(created.order == .payment("pi_77"))
        dispute["status"] = "won"
        #expect(try parse("charge.dispute.closed", dispute).effect == .disputeClosed(won: true))
        dispute["status"] = "lost"
        #expect(try parse("charge.dispute.closed", dispute).effect == .disputeClosed(won: false))
        // An inquiry closed without a chargeback leaves the money with the store.
        for status in ["warning_closed", "prevented"] {
            dispute["status"] = status
            #expect(try parse("charge.dispute.closed", dispute).effect == .disputeClosed(won: true), "\(status)")
        }
    }

    @Test("An unknown type parses with no effect and no order")
    func unknownType() throws {
        let data = try Data(contentsOf: StripeFixtures.directory.appendingPathComponent("event.json"))
        let event = try StripeEvents.parse(data, provider: "stripe")
        #expect(event == PaymentEvent(provider: "stripe", id: "evt_1Pgc76B7WZ01zgkWwyRHS12y", type: "plan.created", order: nil, effect: nil))
        // A payment_intent event is not acted on either (Checkout events carry the news).
        let intent = try parse("payment_intent.succeeded", try StripeFixtures.object("payment_intent"))
        #expect(intent.effect == nil && intent.order == nil)
    }

    @Test("Malformed bodies are bad requests")
    func malformed() throws {
        let bodies = [
            "", "not json", "[]", "{}", #"{"id":"evt_1","type":"x"}"#, #"{"id":"evt_1","data":{"object":{}}}"#,
            #"{"type":"x","data":{"object":{}}}"#, #"{"id":5,"type":"x","data":{"object":{}}}"#,
        ]
        for body in bodies {
            do {
                _ = try StripeEvents.parse(Data(body.utf8), provider: "stripe")
                Issue.record("\(body) parsed")
            } catch let error as SoukError {
                #expect(error.code == .badRequest, "\(body)")
            }
        }
    }
}
