import Foundation
import SoukCore
import SoukPayments
import Testing

@Suite("The Stripe provider over a fake transport")
struct StripeProviderTests {
    let clock = OrdersTestClock()

    func provider(_ transport: RecordingTransport, apiBase: String = "https://stripe.fake/") -> StripeProvider {
        StripeProvider(
            secretKey: "sk_test_abc", webhookSecret: "whsec_xyz", apiBase: apiBase, transport: transport, clock: clock)
    }

    func request(orderID: String = "ord_123") -> CheckoutRequest {
        CheckoutRequest(
            orderID: orderID, buyerEmail: "ann+shop@example.com", currency: "EUR",
            lines: [
                CheckoutLine(title: "Tea & Biscuits / Ünïcode = 100%", quantity: 2, unitAmount: 1250),
                CheckoutLine(title: "Plain", quantity: 1, unitAmount: 99),
            ],
            total: 2599,
            successURL: "http://store.test/checkout/success?order=\(orderID)&key=K&session_id={CHECKOUT_SESSION_ID}",
            cancelURL: "http://store.test/checkout/cancel?order=\(orderID)&key=K",
            expiresAt: clock.now().addingTimeInterval(30 * 60))
    }

    @Test("createCheckout posts the form fields, percent-encoded, with the bearer key and an order idempotency key")
    func createCheckout() async throws {
        let transport = RecordingTransport { _ in
            .init(status: 200, body: Data(#"{"id":"cs_test_9","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_9"}"#.utf8))
        }
        let hosted = try await provider(transport).createCheckout(request())
        #expect(hosted == HostedCheckout(sessionID: "cs_test_9", redirectURL: "https://checkout.stripe.com/c/pay/cs_test_9"))

        let sent = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(sent.method == "POST")
        #expect(sent.url.absoluteString == "https://stripe.fake/v1/checkout/sessions", "no double slash from the base's trailing /")
        #expect(sent.headers["Authorization"] == "Bearer sk_test_abc")
        #expect(sent.headers["Idempotency-Key"] == "souk-checkout-ord_123")
        #expect(sent.headers["Content-Type"] == "application/x-www-form-urlencoded")

        let form = sent.form
        #expect(form["mode"] == "payment")
        #expect(form["client_reference_id"] == "ord_123")
        #expect(form["metadata[order_id]"] == "ord_123")
        #expect(form["payment_intent_data[metadata][order_id]"] == "ord_123")
        #expect(form["customer_email"] == "ann+shop@example.com")
        #expect(form["success_url"] == "http://store.test/checkout/success?order=ord_123&key=K&session_id={CHECKOUT_SESSION_ID}")
        #expect(form["cancel_url"] == "http://store.test/checkout/cancel?order=ord_123&key=K")
        // Derived from the order alone (a retry sends identical parameters): its expiry + 90 minutes.
        let expectedExpiry: Int = Int(clock.now().timeIntervalSince1970) + 120 * 60
        #expect(form["expires_at"] == String(expectedExpiry))

        #expect(form["line_items[0][price_data][currency]"] == "eur")
        #expect(form["line_items[0][price_data][unit_amount]"] == "1250")
        #expect(form["line_items[0][price_data][product_data][name]"] == "Tea & Biscuits / Ünïcode = 100%")
        #expect(form["line_items[0][quantity]"] == "2")
        #expect(form["line_items[1][price_data][currency]"] == "eur")
        #expect(form["line_items[1][price_data][unit_amount]"] == "99")
        #expect(form["line_items[1][price_data][product_data][name]"] == "Plain")
        #expect(form["line_items[1][quantity]"] == "1")
        #expect(form["line_items[2][quantity]"] == nil)
        #expect(sent.formPairs.count == 8 + 2 * 4, "no duplicate or stray fields: \(sent.formPairs.map(\.0))")

        // The raw body escapes everything outside the unreserved set, so no value can add fields.
        let raw = sent.bodyText
        #expect(raw.contains("line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Tea%20%26%20Biscuits%20%2F%20%C3%9Cn%C3%AFcode%20%3D%20100%25"))
        #expect(raw.contains("customer_email=ann%2Bshop%40example.com"), "a + must not become a space")
        #expect(raw.contains("session_id%3D%7BCHECKOUT_SESSION_ID%7D"))
        #expect(!raw.contains(" "))
        #expect(raw.split(separator: "&").count == 16)
    }

    @Test("The same order sends identical parameters whatever the clock says (a retry reuses its idempotency key)")
    func deterministicParameters() async throws {
        let transport = RecordingTransport { _ in RecordingTransport.json(200, #"{"id":"cs_1","url":"https://x"}"#) }
        let stripe = provider(transport)
        let request = request()
        _ = try await stripe.createCheckout(request)
        clock.advance(17 * 60)
        _ = try await stripe.createCheckout(request)
        let bodies = transport.requests.map(\.bodyText)
        #expect(bodies.count == 2)
        #expect(bodies[0] == bodies[1])
        #expect(transport.requests.map { $0.headers["Idempotency-Key"] } == ["souk-checkout-ord_123", "souk-checkout-ord_123"])
    }

    /// Runs `body` and returns the `PaymentProviderFailure` it throws.
    func failure(_ body: () async throws -> Void) async -> PaymentProviderFailure? {
        do {
            try await body()
            Issue.record("expected a PaymentProviderFailure, got success")
        } catch let failure as PaymentProviderFailure {
            return failure
        } catch {
            Issue.record("expected a PaymentProviderFailure, got \(error)")
        }
        return nil
    }

    @Test("Stripe's 4xx error JSON is a refusal carrying Stripe's message; it becomes a payment_provider_error")
    func stripeError() async throws {
        let transport = RecordingTransport { _ in
            RecordingTransport.json(
                400,
                #"{"error":{"code":"parameter_invalid_integer","message":"Invalid integer: abc","param":"line_items[0][quantity]","type":"invalid_request_error"}}"#)
        }
        let refused = await failure { _ = try await provider(transport).createCheckout(request()) }
        #expect(refused?.provider == "stripe")
        #expect(refused?.kind == .refused("Invalid integer: abc"))
        #expect(refused?.action.contains("ord_123") == true)
        let shown = try #require(refused?.soukError)
        #expect(shown.code == .paymentProviderError)
        #expect(shown.detail.contains("Invalid integer: abc"), "\(shown)")

        // A 5xx, even with an error JSON, or a body that is not JSON: the outcome is unknown.
        let down = RecordingTransport { _ in RecordingTransport.json(502, "<html>Bad gateway</html>") }
        let downFailure = await failure { _ = try await provider(down).createCheckout(request()) }
        guard case .unreachable = downFailure?.kind else { Issue.record("502: \(String(describing: downFailure))"); return }
        let busy = RecordingTransport { _ in RecordingTransport.json(500, #"{"error":{"message":"Internal"}}"#) }
        guard case .unreachable = await failure({ _ = try await provider(busy).createCheckout(request()) })?.kind else {
            Issue.record("500 with JSON was not 'unreachable'"); return
        }
        // What the buyer is told about an unreachable provider never names the API's address.
        let downError = try #require(downFailure?.soukError)
        #expect(downError.code == .paymentProviderError)
        #expect(!downError.detail.contains("stripe.fake"), "\(downError.detail)")

        // Unreachable.
        struct Offline: Error {}
        let offline = RecordingTransport { _ in throw Offline() }
        guard case .unreachable = await failure({ _ = try await provider(offline).createCheckout(request()) })?.kind else {
            Issue.record("a transport error was not 'unreachable'"); return
        }
        // 200 without a session url.
        let odd = RecordingTransport { _ in RecordingTransport.json(200, #"{"id":"cs_1"}"#) }
        #expect(await failure({ _ = try await provider(odd).createCheckout(request()) }) != nil)

        // A refund refused (e.g. already refunded).
        let refusedRefund = RecordingTransport { _ in
            RecordingTransport.json(400, #"{"error":{"message":"Charge ch_1 has already been refunded.","type":"invalid_request_error"}}"#)
        }
        let refundFailure = await failure {
            _ = try await provider(refusedRefund).refund(
                paymentID: "pi_1", orderID: "ord_1", amount: 100, currency: "USD", idempotencyKey: "k")
        }
        #expect(refundFailure?.kind == .refused("Charge ch_1 has already been refunded."))
    }

    @Test("refund posts the payment intent, the amount and the idempotency key; returns the refund id")
    func refund() async throws {
        let transport = RecordingTransport { _ in RecordingTransport.json(200, #"{"id":"re_42","object":"refund","status":"succeeded"}"#) }
        let id = try await provider(transport).refund(
            paymentID: "pi_abc", orderID: "ord_7", amount: 1234, currency: "USD", idempotencyKey: "souk-refund-ord_7-0-1234")
        #expect(id == "re_42")
        let sent = try #require(transport.requests.first)
        #expect(sent.method == "POST")
        #expect(sent.url.absoluteString == "https://stripe.fake/v1/refunds")
        #expect(sent.headers["Authorization"] == "Bearer sk_test_abc")
        #expect(sent.headers["Idempotency-Key"] == "souk-refund-ord_7-0-1234")
        #expect(sent.form["payment_intent"] == "pi_abc")
        #expect(sent.form["amount"] == "1234")
        #expect(sent.form["metadata[order_id]"] == "ord_7")
    }

    @Test("confirm retrieves the session and maps its state")
    func confirm() async throws {
        let answers: [String: String] = [
            "cs_paid": #"{"id":"cs_paid","status":"complete","payment_status":"paid","payment_intent":"pi_p","metadata":{"order_id":"ord_1"}}"#,
            "cs_open": #"{"id":"cs_open","status":"open","payment_status":"unpaid","payment_intent":null,"metadata":{"order_id":"ord_1"}}"#,
            "cs_later": #"{"id":"cs_later","status":"complete","payment_status":"unpaid","metadata":{"order_id":"ord_1"}}"#,
            "cs_gone": #"{"id":"cs_gone","status":"expired","payment_status":"unpaid","client_reference_id":"ord_2"}"#,
        ]
        let transport = RecordingTransport { request in
            let id = request.url.lastPathComponent
            guard let answer = answers[id] else { return RecordingTransport.json(404, #"{"error":{"message":"No such checkout.session"}}"#) }
            return RecordingTransport.json(200, answer)
        }
        let stripe = provider(transport)

        let paid = try #require(try await stripe.confirm(sessionID: "cs_paid", orderID: "ord_1"))
        #expect(paid.provider == "stripe")
        #expect(paid.effect == .paid(Payment(id: "pi_p", checkoutID: "cs_paid", amount: nil, currency: nil, claimedOrderID: "ord_1")))
        #expect(paid.order == .session("cs_paid"))
        #expect(paid.id.hasPrefix("return:cs_paid:"))
        let sent = try #require(transport.requests.first)
        #expect(sent.method == "GET")
        #expect(sent.url.absoluteString == "https://stripe.fake/v1/checkout/sessions/cs_paid")
        #expect(sent.body == nil)
        #expect(sent.headers["Idempotency-Key"] == nil)
        #expect(sent.headers["Authorization"] == "Bearer sk_test_abc")

        #expect(try await stripe.confirm(sessionID: "cs_open", orderID: "ord_1") == nil, "not paid yet: nothing to record")
        #expect(try await stripe.confirm(sessionID: "cs_later", orderID: "ord_1") == nil)
        let gone = try #require(try await stripe.confirm(sessionID: "cs_gone", orderID: "ord_2"))
        #expect(gone.effect == .expired && gone.order == .session("cs_gone"))
        // The same state twice is the same event id (recorded once).
        let again = try #require(try await stripe.confirm(sessionID: "cs_paid", orderID: "ord_1"))
        #expect(again.id == paid.id)

        #expect(await failure({ _ = try await stripe.confirm(sessionID: "cs_unknown", orderID: "ord_1") })?.kind == .refused("No such checkout.session"))
        // A session id with odd characters stays one path segment.
        _ = try? await stripe.confirm(sessionID: "cs/../x?y", orderID: "ord_1")
        let odd = try #require(transport.requests.last)
        #expect(odd.url.absoluteString == "https://stripe.fake/v1/checkout/sessions/cs%2F..%2Fx%3Fy")
    }

    @Test("verifyWebhook: signed with the webhook secret at the clock's time; anything else is a bad request")
    func verifyWebhook() async throws {
        let stripe = provider(RecordingTransport { _ in RecordingTransport.json(500, "") })
        let body = try StripeFixtures.event(
            "checkout.session.completed", id: "evt_w",
            object: try StripeFixtures.session(["payment_status": "paid", "metadata": ["order_id": "ord_5"]]))
        let timestamp = Int(clock.now().timeIntervalSince1970)
        let header = StripeSignature.header(body: body, timestamp: timestamp, secret: "whsec_xyz")
        let event = try await stripe.verifyWebhook(WebhookRequest(headers: ["stripe-signature": header], body: body))
        #expect(event.id == "evt_w" && event.order == .session("cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY") && event.provider == "stripe")

        let wrong = StripeSignature.header(body: body, timestamp: timestamp, secret: "whsec_other")
        await expectSoukError(.badRequest) {
            try await stripe.verifyWebhook(WebhookRequest(headers: ["stripe-signature": wrong], body: body))
        }
        await expectSoukError(.badRequest) { try await stripe.verifyWebhook(WebhookRequest(headers: [:], body: body)) }
        clock.advance(301)
        await expectSoukError(.badRequest) {
            try await stripe.verifyWebhook(WebhookRequest(headers: ["stripe-signature": header], body: body))
        }
        // Signed but not an event.
        let junk = Data("{}".utf8)
        let signedJunk = StripeSignature.header(body: junk, timestamp: Int(clock.now().timeIntervalSince1970), secret: "whsec_xyz")
        await expectSoukError(.badRequest) {
            try await stripe.verifyWebhook(WebhookRequest(headers: ["stripe-signature": signedJunk], body: junk))
        }
    }

    @Test("With no webhook secret configured, no signature is accepted (an empty key would be anyone's)")
    func emptyWebhookSecret() async throws {
        let stripe = StripeProvider(
            secretKey: "sk_test_abc", webhookSecret: "", apiBase: "https://stripe.fake",
            transport: RecordingTransport { _ in RecordingTransport.json(500, "") }, clock: clock)
        let body = try StripeFixtures.event(
            "checkout.session.completed", id: "evt_forged",
            object: try StripeFixtures.session(["payment_status": "paid", "metadata": ["order_id": "ord_5"]]))
        let forged = StripeSignature.header(body: body, timestamp: Int(clock.now().timeIntervalSince1970), secret: "")
        await expectSoukError(.badRequest) {
            try await stripe.verifyWebhook(WebhookRequest(headers: ["stripe-signature": forged], body: body))
        }
    }
}
