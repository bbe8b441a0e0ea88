import Foundation
import SoukCore

/// PayPal Orders v2: create an order (`intent: CAPTURE`, `custom_id` = our order id), send the
/// buyer to its approve link, capture on return (`PayPal-Request-Id`), refund a capture. Webhooks
/// are verified offline (`PayPalWebhookVerifier`). `apiBase` is configurable for tests.
public struct PayPalProvider: PaymentProvider {
    public let name = "paypal"
    let clientID: String
    let clientSecret: String
    let apiBase: String
    let transport: any HTTPTransport
    let clock: any WallClock
    let verifier: PayPalWebhookVerifier
    let tokens: AccessTokenCache

    public init(
        clientID: String, clientSecret: String, webhookID: String, apiBase: String,
        transport: any HTTPTransport = URLSessionTransport(), clock: any WallClock = SystemClock(),
        certificateTrust: PayPalCertificateTrust = PayPalCertificateTrust()
    ) {
        ConstructionCounts.record("PaymentProvider.paypal")
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        self.transport = transport
        self.clock = clock
        self.verifier = PayPalWebhookVerifier(
            webhookID: webhookID, apiBase: self.apiBase, transport: transport, clock: clock, trust: certificateTrust)
        self.tokens = AccessTokenCache()
    }

    public func createCheckout(_ request: CheckoutRequest) async throws -> HostedCheckout {
        let currency = request.currency.uppercased()
        func money(_ minor: Int) -> JSONValue {
            .object(["currency_code": .string(currency), "value": .string(Currency.decimalString(minor, currency: currency))])
        }
        let body: JSONValue = .object([
            "intent": .string("CAPTURE"),
            "purchase_units": .array([
                .object([
                    "reference_id": .string(request.orderID),
                    "custom_id": .string(request.orderID),
                    "invoice_id": .string(request.orderID),
                    "amount": .object([
                        "currency_code": .string(currency),
                        "value": .string(Currency.decimalString(request.total, currency: currency)),
                        "breakdown": .object(["item_total": money(request.total)]),
                    ]),
                    "items": .array(
                        request.lines.map { line in
                            .object([
                                "name": .string(String(line.title.prefix(127))), "quantity": .string(String(line.quantity)),
                                "unit_amount": money(line.unitAmount), "category": .string("DIGITAL_GOODS"),
                            ])
                        }),
                ])
            ]),
            "payment_source": .object([
                "paypal": .object([
                    "experience_context": .object([
                        // PayPal adds `token` (its order id) and `PayerID` to the return URL.
                        "return_url": .string(request.successURL.replacingOccurrences(of: "{CHECKOUT_SESSION_ID}", with: "")),
                        "cancel_url": .string(request.cancelURL),
                        "user_action": .string("PAY_NOW"),
                        "shipping_preference": .string("NO_SHIPPING"),
                    ]),
                    "email_address": .string(request.buyerEmail),
                ])
            ]),
        ])
        let order = try await call(
            "POST", "/v2/checkout/orders", body: body, requestID: "souk-checkout-\(request.orderID)",
            what: "open a checkout for order \(request.orderID)")
        let links = order["links"]?.arrayValue ?? []
        guard let id = order["id"]?.stringValue,
            let approve = links.first(where: { ["payer-action", "approve"].contains($0["rel"]?.stringValue ?? "") })?["href"]?
                .stringValue
        else {
            throw PaymentProviderFailure.unreachable(
                name, "open a checkout for order \(request.orderID)", "the answer had no order id or approve link")
        }
        return HostedCheckout(sessionID: id, redirectURL: approve)
    }

    /// Captures the approved order (the buyer is back from PayPal). Idempotent: the same
    /// `PayPal-Request-Id` returns the first capture; an order captured already is looked up.
    public func confirm(sessionID: String, orderID: String) async throws -> PaymentEvent? {
        let path = "/v2/checkout/orders/\(FormEncoding.escape(sessionID))"
        var order: JSONValue
        do {
            order = try await call(
                "POST", path + "/capture", body: .object([:]), requestID: "souk-capture-\(orderID)",
                what: "capture order \(orderID)")
        } catch let failure as PaymentProviderFailure where "\(failure)".contains("ORDER_ALREADY_CAPTURED") {
            order = try await call("GET", path, body: nil, requestID: nil, what: "look up order \(orderID)")
        }
        guard let capture = Self.captures(of: order).first(where: { $0["status"]?.stringValue == "COMPLETED" }),
            let captureID = capture["id"]?.stringValue
        else {
            if Self.captures(of: order).contains(where: { ["DECLINED", "FAILED"].contains($0["status"]?.stringValue ?? "") }) {
                return PaymentEvent(
                    provider: name, id: "return:\(sessionID):failed", type: "capture.declined", order: .order(orderID),
                    effect: .failed)
            }
            return nil
        }
        return PaymentEvent(
            provider: name, id: "return:\(sessionID):captured", type: "capture.completed", order: .session(sessionID),
            effect: .paid(PayPalEvents.payment(ofCapture: capture, captureID: captureID, paypalOrderID: sessionID)))
    }

    static func captures(of order: JSONValue) -> [JSONValue] {
        (order["purchase_units"]?.arrayValue ?? []).flatMap { $0["payments"]?["captures"]?.arrayValue ?? [] }
    }

    public func refund(paymentID: String, orderID: String, amount: Int, currency: String, idempotencyKey: String)
        async throws -> String
    {
        let body: JSONValue = .object([
            "amount": .object([
                "currency_code": .string(currency.uppercased()),
                "value": .string(Currency.decimalString(amount, currency: currency)),
            ]),
            "custom_id": .string(orderID),
        ])
        let refund = try await call(
            "POST", "/v2/payments/captures/\(FormEncoding.escape(paymentID))/refund", body: body, requestID: idempotencyKey,
            what: "refund order \(orderID)")
        guard let id = refund["id"]?.stringValue else {
            throw PaymentProviderFailure.unreachable(name, "refund order \(orderID)", "the answer had no refund id")
        }
        return id
    }

    public func verifyWebhook(_ request: WebhookRequest) async throws -> PaymentEvent {
        do {
            try await verifier.verify(request)
        } catch let error as SoukError {
            throw error
        } catch {
            throw SoukError(.badRequest, "PayPal webhook rejected: \(error).")
        }
        return try PayPalEvents.parse(request.body)
    }

    // MARK: HTTP

    private func accessToken() async throws -> String {
        try await tokens.token(now: clock.now()) {
            guard let url = URL(string: apiBase + "/v1/oauth2/token") else {
                throw SoukError(.internalError, "[payments.paypal] api_base is not a URL: \(apiBase)")
            }
            let basic = Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
            let response: IncomingResponse
            do {
                response = try await transport.send(
                    OutgoingRequest(
                        method: "POST", url: url,
                        headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"],
                        body: Data("grant_type=client_credentials".utf8)))
            } catch {
                throw PaymentProviderFailure.unreachable("paypal", "sign in to its API", "\(apiBase): \(error)")
            }
            guard (200..<300).contains(response.status),
                let json = try? JSONValue.read(response.body),
                let token = json["access_token"]?.stringValue
            else {
                throw PaymentProviderFailure.refused(
                    "paypal", "sign in to its API",
                    "HTTP \(response.status); check [payments.paypal] client_id and client_secret")
            }
            return (token, TimeInterval(json["expires_in"]?.intValue ?? 300))
        }
    }

    private func call(_ method: String, _ path: String, body: JSONValue?, requestID: String?, what: String) async throws
        -> JSONValue
    {
        guard let url = URL(string: apiBase + path) else {
            throw SoukError(.internalError, "[payments.paypal] api_base is not a URL: \(apiBase)")
        }
        var headers = ["Authorization": "Bearer \(try await accessToken())", "Prefer": "return=representation"]
        if body != nil { headers["Content-Type"] = "application/json" }
        if let requestID { headers["PayPal-Request-Id"] = requestID }
        let response: IncomingResponse
        do {
            response = try await transport.send(
                OutgoingRequest(method: method, url: url, headers: headers, body: body.map { Data($0.jsonText.utf8) }))
        } catch {
            throw PaymentProviderFailure.unreachable(name, what, "\(apiBase): \(error)")
        }
        let json = try? JSONValue.read(response.body)
        guard (200..<300).contains(response.status), let json else {
            let issue = json?["details"]?.arrayValue?.first?["issue"]?.stringValue
            let message = [json?["name"]?.stringValue, issue, json?["message"]?.stringValue].compactMap { $0 }
                .joined(separator: ": ")
            guard (400..<500).contains(response.status), !message.isEmpty else {
                throw PaymentProviderFailure.unreachable(name, what, "HTTP \(response.status) from \(apiBase)")
            }
            throw PaymentProviderFailure.refused(name, what, message)
        }
        return json
    }
}

/// PayPal's OAuth token, reused until shortly before it expires.
actor AccessTokenCache {
    private var token: String?
    private var expiresAt = Date.distantPast

    func token(now: Date, fetch: @Sendable () async throws -> (String, TimeInterval)) async throws -> String {
        if let token, now < expiresAt { return token }
        let (fresh, lifetime) = try await fetch()
        token = fresh
        expiresAt = now.addingTimeInterval(max(0, lifetime - 60))
        return fresh
    }
}

/// PayPal webhook events reduced to `PaymentEvent`s.
enum PayPalEvents {
    /// The id at the end of a resource's `up` link when it points under `path` (a capture's order,
    /// a refund's capture).
    static func upLink(_ resource: JSONValue, under path: String) -> String? {
        guard let href = resource["links"]?.arrayValue?.first(where: { $0["rel"]?.stringValue == "up" })?["href"]?.stringValue,
            let url = URLComponents(string: href), url.path.hasPrefix(path)
        else { return nil }
        let id = url.path.dropFirst(path.count)
        return id.isEmpty || id.contains("/") ? nil : String(id)
    }

    /// What a capture took: `amount.value` in major units, converted to minor units.
    static func payment(ofCapture capture: JSONValue, captureID: String, paypalOrderID: String?) -> Payment {
        let currency = capture["amount"]?["currency_code"]?.stringValue
        let amount = capture["amount"]?["value"]?.stringValue.flatMap { value in
            currency.flatMap { Currency.minorUnits(value, currency: $0) }
        }
        return Payment(
            id: captureID, checkoutID: paypalOrderID, amount: amount, currency: currency,
            claimedOrderID: capture["custom_id"]?.stringValue)
    }

    static func parse(_ body: Data) throws -> PaymentEvent {
        guard let event = try? JSONValue.read(body), let id = event["id"]?.stringValue,
            let type = event["event_type"]?.stringValue, let resource = event["resource"]
        else {
            throw SoukError(.badRequest, "The webhook body is not a PayPal event (id, event_type and resource are required).")
        }
        let orderID = resource["custom_id"]?.stringValue
        let reference = orderID.map(OrderReference.order)
        let effect: PaymentEffect?
        var ref = reference
        switch type {
        case "CHECKOUT.ORDER.APPROVED":
            // The buyer approved but may never come back to the store: capture now.
            ref = resource["purchase_units"]?.arrayValue?.first?["custom_id"]?.stringValue.map(OrderReference.order)
            effect = .pending
        case "PAYMENT.CAPTURE.COMPLETED":
            // A capture belongs to the PayPal order the store created (its related order id);
            // `custom_id` is only what the capture claims.
            let paypalOrderID = resource["supplementary_data"]?["related_ids"]?["order_id"]?.stringValue
                ?? upLink(resource, under: "/v2/checkout/orders/")
            if let paypalOrderID { ref = .session(paypalOrderID) }
            effect = resource["id"]?.stringValue.map {
                .paid(payment(ofCapture: resource, captureID: $0, paypalOrderID: paypalOrderID))
            }
        case "PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED":
            effect = .failed
        case "PAYMENT.CAPTURE.REFUNDED":
            // A refund belongs to the capture it gives back (its `up` link,
            // `…/v2/payments/captures/{id}`), which is how the order was paid; `custom_id` is only
            // what it claims (absent for dashboard refunds), used when there is no such link.
            if let captureID = upLink(resource, under: "/v2/payments/captures/") {
                ref = .payment(captureID)
            }
            // The resource is the refund; its breakdown carries the cumulative refunded total.
            let currency = resource["amount"]?["currency_code"]?.stringValue ?? "USD"
            let total =
                resource["seller_payable_breakdown"]?["total_refunded_amount"]?["value"]?.stringValue
                ?? resource["amount"]?["value"]?.stringValue
            effect = total.flatMap { Currency.minorUnits($0, currency: currency) }.map {
                .refunded(totalRefunded: $0, refundID: resource["id"]?.stringValue)
            }
        case "CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.RESOLVED":
            let capture = resource["disputed_transactions"]?.arrayValue?.first?["seller_transaction_id"]?.stringValue
            ref = capture.map(OrderReference.payment)
            if type == "CUSTOMER.DISPUTE.CREATED" {
                effect = .disputeOpened
            } else {
                let outcome = resource["dispute_outcome"]?["outcome_code"]?.stringValue ?? ""
                // The buyer gets the money back only when PayPal decided for them or the seller
                // accepted the claim; a payout by PayPal itself leaves the store paid.
                effect = .disputeClosed(won: !["RESOLVED_BUYER_FAVOUR", "ACCEPTED"].contains(outcome))
            }
        default:
            effect = nil
        }
        return PaymentEvent(provider: "paypal", id: id, type: type, order: effect == nil ? nil : ref, effect: effect)
    }
}
