import Crypto
import Foundation
import SoukCore

/// Where the test provider keeps its hosted sessions: what Stripe keeps on its side for a real
/// checkout. The store's database implements it; the provider knows nothing of storage.
public protocol TestCheckoutSessions: Sendable {
    /// Opens the order's session, or returns the one it already has.
    func openTestSession(
        orderID: String, amount: Int, currency: String, lines: [TestCheckoutSession.Line], buyerEmail: String,
        successURL: String, cancelURL: String
    ) async throws -> TestCheckoutSession
    func testSession(id: String) async throws -> TestCheckoutSession?
    /// Moves an open session to `status` and queues the webhooks it sends (each after its delay),
    /// in one transaction. Throws `conflict` when the session was already settled.
    func settleTestSession(id: String, to status: TestCheckoutSession.Status, webhooks: [(body: String, delay: TimeInterval)])
        async throws -> TestCheckoutSession
    /// Refunds part of a paid session and queues the webhook `webhook(totalRefunded)` builds.
    /// Throws `conflict` when the amount exceeds what is left. Returns the total refunded.
    func refundTestSession(paymentID: String, amount: Int, webhook: @Sendable (Int) -> String) async throws -> Int
}

/// The built-in test provider: a hosted checkout page served by Souk itself
/// (`/test-checkout/{session}`, marked TEST MODE) whose buttons make it send Stripe-shaped
/// events, signed like Stripe's, through the job queue to `/webhooks/test`'s handler. Orders
/// paid this way take exactly the path real payments take.
public struct TestProvider: PaymentProvider {
    public let name = "test"
    let sessions: any TestCheckoutSessions
    let clock: any WallClock
    let baseURL: String
    /// The `whsec_…` secret the test webhooks are signed with (derived from the server secret).
    public let webhookSecret: String

    public init(sessions: any TestCheckoutSessions, clock: any WallClock, baseURL: String, serverSecret: [UInt8]) {
        ConstructionCounts.record("PaymentProvider.test")
        self.sessions = sessions
        self.clock = clock
        self.baseURL = baseURL
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("souk-test-provider-webhook".utf8), using: SymmetricKey(data: serverSecret))
        self.webhookSecret = "whsec_test_" + Base64URL.encode(Data(mac))
    }

    /// What the buyer pressed on the hosted page.
    public enum Choice: String, Sendable, CaseIterable {
        case pay, decline
        /// A bank debit: the session completes unpaid, the money arrives a little later.
        case payLater = "later"
    }

    /// How long a pay-later payment takes to arrive.
    public static let payLaterDelay: TimeInterval = 5

    public func createCheckout(_ request: CheckoutRequest) async throws -> HostedCheckout {
        let session = try await sessions.openTestSession(
            orderID: request.orderID, amount: request.total, currency: request.currency,
            lines: request.lines,
            buyerEmail: request.buyerEmail, successURL: request.successURL, cancelURL: request.cancelURL)
        return HostedCheckout(sessionID: session.id, redirectURL: "\(baseURL)/test-checkout/\(session.id)")
    }

    /// Settles the session as the buyer chose and queues its webhooks; returns where to send the
    /// buyer next (the store's success page, or its cancel page after a decline).
    public func choose(_ choice: Choice, sessionID: String) async throws -> String {
        guard let session = try await sessions.testSession(id: sessionID) else {
            throw SoukError.notFound("The test checkout \(sessionID)")
        }
        let webhooks: [(body: String, delay: TimeInterval)]
        let status: TestCheckoutSession.Status
        switch choice {
        case .pay:
            status = .paid
            webhooks = [(event("checkout.session.completed", Self.sessionObject(session, paymentStatus: "paid")), 0)]
        case .payLater:
            status = .pending
            webhooks = [
                (event("checkout.session.completed", Self.sessionObject(session, paymentStatus: "unpaid")), 0),
                (event(
                    "checkout.session.async_payment_succeeded", Self.sessionObject(session, paymentStatus: "paid")),
                 Self.payLaterDelay),
            ]
        case .decline:
            status = .declined
            webhooks = [
                (event("checkout.session.async_payment_failed", Self.sessionObject(session, paymentStatus: "unpaid")), 0)
            ]
        }
        let settled = try await sessions.settleTestSession(id: sessionID, to: status, webhooks: webhooks)
        let target = choice == .decline ? settled.cancelURL : settled.successURL
        return target.replacingOccurrences(of: "{CHECKOUT_SESSION_ID}", with: settled.id)
    }

    public func confirm(sessionID: String, orderID: String) async throws -> PaymentEvent? {
        guard let session = try await sessions.testSession(id: sessionID) else { return nil }
        let effect: PaymentEffect
        switch session.status {
        case .paid:
            effect = .paid(
                Payment(
                    id: session.paymentID, checkoutID: session.id, amount: session.amount, currency: session.currency,
                    claimedOrderID: session.orderID))
        case .declined: effect = .failed
        case .open, .pending: return nil
        }
        return PaymentEvent(
            provider: name, id: "return:\(sessionID):\(effect.label)", type: "checkout.session.retrieved",
            order: .session(session.id), effect: effect)
    }

    public func refund(paymentID: String, orderID: String, amount: Int, currency: String, idempotencyKey: String)
        async throws -> String
    {
        let refundID = "re_test_" + RandomText.base32(byteCount: 12)
        _ = try await sessions.refundTestSession(paymentID: paymentID, amount: amount) { totalRefunded in
            event(
                "charge.refunded",
                .object([
                    "id": .string("ch_test_" + RandomText.base32(byteCount: 12)), "object": .string("charge"),
                    "payment_intent": .string(paymentID), "amount_refunded": .number(Double(totalRefunded)),
                    "currency": .string(currency.lowercased()), "refunded": .bool(true),
                    "metadata": .object(["order_id": .string(orderID)]),
                    "refunds": .object(["data": .array([.object(["id": .string(refundID)])])]),
                ]))
        }
        return refundID
    }

    public func verifyWebhook(_ request: WebhookRequest) async throws -> PaymentEvent {
        do {
            try StripeSignature.verify(
                header: request.headers["stripe-signature"], body: request.body, secret: webhookSecret,
                now: clock.now())
        } catch {
            throw SoukError(.badRequest, "Test webhook rejected: \(error).")
        }
        return try StripeEvents.parse(request.body, provider: name)
    }

    /// Signs a queued test event for delivery now.
    public func signedRequest(body: String) -> WebhookRequest {
        let data = Data(body.utf8)
        let header = StripeSignature.header(
            body: data, timestamp: Int(clock.now().timeIntervalSince1970), secret: webhookSecret)
        return WebhookRequest(headers: ["stripe-signature": header, "content-type": "application/json"], body: data)
    }

    static func sessionObject(_ session: TestCheckoutSession, paymentStatus: String) -> JSONValue {
        .object([
            "id": .string(session.id), "object": .string("checkout.session"), "mode": .string("payment"),
            "status": .string("complete"), "payment_status": .string(paymentStatus),
            "payment_intent": .string(session.paymentID), "client_reference_id": .string(session.orderID),
            "metadata": .object(["order_id": .string(session.orderID)]), "amount_total": .number(Double(session.amount)),
            "currency": .string(session.currency.lowercased()), "customer_email": .string(session.buyerEmail),
        ])
    }

    func event(_ type: String, _ object: JSONValue) -> String {
        JSONValue.object([
            "id": .string("evt_test_" + RandomText.base32(byteCount: 12)), "object": .string("event"),
            "type": .string(type), "created": .number(clock.now().timeIntervalSince1970.rounded(.down)),
            "livemode": .bool(false), "data": .object(["object": object]),
        ]).jsonText
    }
}
