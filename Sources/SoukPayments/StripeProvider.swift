import Foundation
import SoukCore

/// Stripe Checkout: sessions are created with form-encoded nested parameters and an
/// Idempotency-Key; the success page retrieves the session; refunds go through `/v1/refunds`.
/// `apiBase` is configurable so tests use a local fake.
public struct StripeProvider: PaymentProvider {
    public let name = "stripe"
    let secretKey: String
    let webhookSecret: String
    let apiBase: String
    let transport: any HTTPTransport
    let clock: any WallClock

    public init(
        secretKey: String, webhookSecret: String, apiBase: String, transport: any HTTPTransport = URLSessionTransport(),
        clock: any WallClock = SystemClock()
    ) {
        ConstructionCounts.record("PaymentProvider.stripe")
        self.secretKey = secretKey
        self.webhookSecret = webhookSecret
        self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        self.transport = transport
        self.clock = clock
    }

    public func createCheckout(_ request: CheckoutRequest) async throws -> HostedCheckout {
        var form: [(String, String)] = [
            ("mode", "payment"),
            ("client_reference_id", request.orderID),
            ("metadata[order_id]", request.orderID),
            ("payment_intent_data[metadata][order_id]", request.orderID),
            ("customer_email", request.buyerEmail),
            ("success_url", request.successURL),
            ("cancel_url", request.cancelURL),
            // Derived from the order, so a retry after a lost answer sends identical parameters
            // (Stripe refuses a reused Idempotency-Key with others). Stripe wants at least 30
            // minutes from creation; a payment after our own 30-minute expiry is still handled
            // (accepted while stock lasts, refunded otherwise).
            ("expires_at", String(Int(request.expiresAt.timeIntervalSince1970) + 90 * 60)),
        ]
        for (index, line) in request.lines.enumerated() {
            let prefix = "line_items[\(index)]"
            form += [
                ("\(prefix)[price_data][currency]", request.currency.lowercased()),
                ("\(prefix)[price_data][unit_amount]", String(line.unitAmount)),
                ("\(prefix)[price_data][product_data][name]", line.title),
                ("\(prefix)[quantity]", String(line.quantity)),
            ]
        }
        let session = try await call(
            "POST", "/v1/checkout/sessions", form: form, idempotencyKey: "souk-checkout-\(request.orderID)",
            what: "open a checkout for order \(request.orderID)")
        guard let id = session["id"]?.stringValue, let url = session["url"]?.stringValue else {
            throw PaymentProviderFailure.unreachable(
                name, "open a checkout for order \(request.orderID)", "the answer had no session id or url")
        }
        return HostedCheckout(sessionID: id, redirectURL: url)
    }

    public func confirm(sessionID: String, orderID: String) async throws -> PaymentEvent? {
        let escaped = FormEncoding.escape(sessionID)
        let session = try await call("GET", "/v1/checkout/sessions/\(escaped)", form: nil, idempotencyKey: nil,
            what: "look up checkout session \(sessionID)")
        let effect = StripeEvents.sessionEffect(session)
        if effect == .pending { return nil }
        return PaymentEvent(
            provider: name, id: "return:\(sessionID):\(effect.label)", type: "checkout.session.retrieved",
            order: StripeEvents.sessionReference(session), effect: effect)
    }

    public func refund(paymentID: String, orderID: String, amount: Int, currency: String, idempotencyKey: String)
        async throws -> String
    {
        let refund = try await call(
            "POST", "/v1/refunds",
            form: [("payment_intent", paymentID), ("amount", String(amount)), ("metadata[order_id]", orderID)],
            idempotencyKey: idempotencyKey, what: "refund order \(orderID)")
        guard let id = refund["id"]?.stringValue else {
            throw PaymentProviderFailure.unreachable(name, "refund order \(orderID)", "the answer had no refund id")
        }
        return id
    }

    public func verifyWebhook(_ request: WebhookRequest) async throws -> PaymentEvent {
        // An empty secret would make every signature computable by anyone.
        guard !webhookSecret.isEmpty else {
            throw SoukError(.badRequest, "Stripe webhook rejected: [payments.stripe] webhook_secret is not configured.")
        }
        do {
            try StripeSignature.verify(
                header: request.headers["stripe-signature"], body: request.body, secret: webhookSecret, now: clock.now())
        } catch {
            throw SoukError(.badRequest, "Stripe webhook rejected: \(error).")
        }
        return try StripeEvents.parse(request.body, provider: name)
    }

    private func call(_ method: String, _ path: String, form: [(String, String)]?, idempotencyKey: String?, what: String)
        async throws -> JSONValue
    {
        guard let url = URL(string: apiBase + path) else {
            throw SoukError(.internalError, "[payments.stripe] api_base is not a URL: \(apiBase)")
        }
        var headers = ["Authorization": "Bearer \(secretKey)", "Stripe-Version": "2024-06-20"]
        var body: Data?
        if let form {
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = Data(FormEncoding.encode(form).utf8)
        }
        if let idempotencyKey { headers["Idempotency-Key"] = idempotencyKey }
        let response: IncomingResponse
        do {
            response = try await transport.send(OutgoingRequest(method: method, url: url, headers: headers, body: body))
        } catch {
            throw PaymentProviderFailure.unreachable(name, what, "\(apiBase): \(error)")
        }
        let json = try? JSONValue.read(response.body)
        guard (200..<300).contains(response.status), let json else {
            // Stripe's 4xx answers are definitive; a 5xx or an unreadable answer leaves the
            // outcome unknown.
            guard (400..<500).contains(response.status), let message = json?["error"]?["message"]?.stringValue else {
                throw PaymentProviderFailure.unreachable(name, what, "HTTP \(response.status) from \(apiBase)")
            }
            throw PaymentProviderFailure.refused(name, what, message)
        }
        return json
    }
}
