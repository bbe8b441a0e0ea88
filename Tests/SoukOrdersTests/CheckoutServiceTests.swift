import Foundation
import GRDB
import SoukCore
import SoukDatabase
import SoukDelivery
import SoukOrders
import SoukPayments
import Testing

@Suite("Checkout, payment and refunds end to end with the test provider")
struct CheckoutServiceTests {
    @Test("Checkout → test session → Pay queues a webhook → jobs mark the order paid, then fulfilled")
    func payFlow() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f, fee: 10)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Course", by: seller, price: 1500, stock: 5)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(product, 2)])

        let result = try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "test", idempotencyKey: "k1")
        #expect(result.isNew)
        let order = result.order
        #expect(order.status == .created && order.total == 3000 && order.provider == "test")
        #expect(order.items.first?.feeAmount == 300)
        let sessionID = try #require(order.providerSessionID)
        #expect(sessionID.hasPrefix("cs_test_"))
        #expect(result.redirectURL == "http://store.test/test-checkout/\(sessionID)")
        #expect(order.redirectURL == result.redirectURL)
        #expect(try await f.stock(product) == 3)

        let session = try #require(try await f.database.testSession(id: sessionID))
        #expect(session.orderID == order.id && session.amount == 3000 && session.currency == "USD" && session.status == .open)
        #expect(session.lines == [TestCheckoutSession.Line(title: "Course", quantity: 2, unitAmount: 1500)])
        #expect(session.buyerEmail == "b@example.com")
        #expect(session.successURL == money.links.successURL(order.id))

        // Checking out again (double click): same order, same session, no second session.
        let again = try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "test", idempotencyKey: "k1")
        #expect(!again.isNew && again.order.id == order.id && again.redirectURL == result.redirectURL)
        #expect(try await f.count("SELECT COUNT(*) FROM test_checkout_sessions") == 1)

        // The buyer presses Pay: back to the store's success page, with the session id filled in.
        let next = try await money.test.choose(.pay, sessionID: sessionID)
        #expect(next == "http://store.test/checkout/success?order=\(order.id)&key=\(money.links.viewKey(order.id))&session_id=\(sessionID)")
        #expect(try await f.database.testSession(id: sessionID)?.status == .paid)
        #expect(try await f.jobs(kind: "test_webhook").count == 1)
        #expect(try await f.status(order.id) == .created, "nothing is paid until the webhook arrives")
        // A second click is refused.
        await expectSoukError(.conflict) { try await money.test.choose(.pay, sessionID: sessionID) }

        let first = try await money.runJobsOnce()
        #expect(first.succeeded == 1 && first.claimed == 1)
        let paid = try #require(try await f.database.order(id: order.id))
        #expect(paid.status == .paid)
        #expect(paid.providerPaymentID == session.paymentID)
        #expect(try await f.database.grants(orderID: order.id).count == 1)
        #expect(try await f.database.cart(of: .user(buyer.id))?.lines.isEmpty ?? true)

        // Fulfilment, and the e-mail of the seller's sale notice (queued with the payment).
        let second = try await money.runJobsOnce()
        #expect(second.succeeded == 2)
        #expect(try await f.status(order.id) == .fulfilled)
        // The receipt goes out (to the outbox here); the mail server's acceptance completes the order.
        #expect(try await money.runJobsOnce().succeeded == 1)
        #expect(try await f.status(order.id) == .completed)
        let mails = try FileManager.default.contentsOfDirectory(atPath: money.outbox).map {
            try String(contentsOfFile: (money.outbox as NSString).appendingPathComponent($0), encoding: .utf8)
        }
        #expect(mails.count == 2)
        #expect(mails.filter { $0.contains("To: b@example.com") }.count == 1, "one receipt to the buyer")
        #expect(mails.filter { $0.contains("To: s@example.com") }.count == 1, "one sale notice to the seller")
        #expect(try await money.runJobsOnce().claimed == 0)
        #expect(try await f.count("SELECT COUNT(*) FROM payment_events WHERE order_id = ? AND outcome = 'applied'", [order.id]) == 1)

        // The order's expiry job, when it comes due, leaves the paid order alone.
        f.clock.advance(31 * 60)
        let late = try await money.runJobs()
        #expect(late.succeeded == 1 && late.failed == 0)
        #expect(try await f.status(order.id) == .completed)
        #expect(try await f.stock(product) == 3)

        // The success page confirms with the provider: the same payment, recorded as a duplicate or ignored.
        let confirmed = try await money.events.confirmReturn(orderID: order.id)
        #expect(confirmed?.status == .completed)

        // Repeating the checkout with the same key after payment (the cart is now empty) finds the order.
        let repeated = try await money.checkout.checkout(
            buyer: buyer, cart: try await f.database.cart(of: .user(buyer.id)), providerName: "test", idempotencyKey: "k1")
        #expect(!repeated.isNew && repeated.order.id == order.id)
    }

    @Test("All of a buyer's orders, read a page at a time, are every order once, newest first")
    func allOrdersPageByPage() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 800)
        let buyer = try await f.buyer("b@example.com")
        for number in 0..<7 {
            // Some placed in the same second: the pages go by time, then id.
            if number % 3 == 0 { f.clock.advance(1) }
            let order = try await money.checkout.checkout(
                buyer: buyer, cart: try await f.cart(buyer, [(product, 1)]), providerName: "test", idempotencyKey: "k\(number)"
            ).order
            _ = try await money.test.choose(.pay, sessionID: try #require(order.providerSessionID))
            try await money.runJobs()
        }
        let expected = try await f.database.orders(.buyer(buyer.id), limit: 100).map(\.id)
        #expect(expected.count == 7)
        for pageSize in [1, 2, 3, 7, 1_000] {
            #expect(try await f.database.allOrders(.buyer(buyer.id), pageSize: pageSize).map(\.id) == expected, "pages of \(pageSize)")
        }
    }

    @Test("Pay later: pending first, paid when the money arrives")
    func payLater() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 800)
        let buyer = try await f.buyer("b@example.com")
        let order = try await money.checkout.checkout(
            buyer: buyer, cart: try await f.cart(buyer, [(product, 1)]), providerName: nil, idempotencyKey: nil
        ).order
        #expect(order.provider == "test", "the default provider")
        _ = try await money.test.choose(.payLater, sessionID: try #require(order.providerSessionID))
        try await money.runJobs()
        #expect(try await f.status(order.id) == .created, "the money has not arrived yet")
        #expect(try await f.database.testSession(id: order.providerSessionID!)?.status == .pending)
        f.clock.advance(TestProvider.payLaterDelay)
        try await money.runJobs()
        #expect(try await f.status(order.id) == .completed)
        #expect(try await f.database.testSession(id: order.providerSessionID!)?.status == .paid)
    }

    @Test("Decline: payment_failed and the stock goes back on sale")
    func decline() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Limited", by: seller, price: 800, stock: 2)
        let buyer = try await f.buyer("b@example.com")
        let result = try await money.checkout.checkout(
            buyer: buyer, cart: try await f.cart(buyer, [(product, 2)]), providerName: "test", idempotencyKey: nil)
        #expect(try await f.stock(product) == 0)
        let next = try await money.test.choose(.decline, sessionID: try #require(result.order.providerSessionID))
        #expect(next == money.links.cancelURL(result.order.id))
        let run = try await money.runJobs()
        #expect(run.failed == 0)
        #expect(try await f.status(result.order.id) == .paymentFailed)
        #expect(try await f.stock(product) == 2)
        #expect(try await f.database.grants(orderID: result.order.id).isEmpty)
        #expect(try await f.jobs(kind: "fulfil").isEmpty)
        // The cart keeps its lines: nothing was bought.
        #expect(try await f.database.cart(of: .user(buyer.id))?.lines.count == 1)
    }

    @Test("Checkout refusals: unknown or unconfigured provider, bad key, empty cart, sold out")
    func refusals() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 800, stock: 1)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(product, 1)])

        let unknown = await expectSoukError(.validationFailed) {
            try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "bitcoin", idempotencyKey: nil)
        }
        #expect(unknown?.field == "provider" && unknown?.detail.contains("bitcoin") == true)
        let stripe = await expectSoukError(.validationFailed) {
            try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "stripe", idempotencyKey: nil)
        }
        #expect(stripe?.field == "provider")
        await expectSoukError(.badRequest) {
            try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "test", idempotencyKey: "two words")
        }
        let empty = await expectSoukError(.validationFailed) {
            try await money.checkout.checkout(buyer: buyer, cart: nil, providerName: "test", idempotencyKey: nil)
        }
        #expect(empty?.field == "cart")
        #expect(try await f.count("SELECT COUNT(*) FROM orders") == 0)

        try await f.setStock(product, 0)
        await expectSoukError(.conflict) {
            try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "test", idempotencyKey: nil)
        }
        #expect(try await f.count("SELECT COUNT(*) FROM orders") == 0)
        #expect(try await f.count("SELECT COUNT(*) FROM test_checkout_sessions") == 0)
    }

    @Test("A free order is paid at once, without a provider session")
    func freeOrder() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Free Zine", by: seller, price: 0)
        let buyer = try await f.buyer("b@example.com")
        let result = try await money.checkout.checkout(
            buyer: buyer, cart: try await f.cart(buyer, [(product, 1)]), providerName: "test", idempotencyKey: "free-1")
        #expect(result.order.total == 0)
        #expect(result.order.status == .paid)
        #expect(result.order.providerSessionID == nil)
        #expect(result.redirectURL == money.links.orderPage(result.order.id))
        #expect(result.redirectURL.hasPrefix("http://store.test/orders/\(result.order.id)?key="))
        #expect(try await f.count("SELECT COUNT(*) FROM test_checkout_sessions") == 0)
        #expect(try await f.database.grants(orderID: result.order.id).count == 1)
        #expect(try await f.salesCount(product) == 1)
        try await money.runJobs()
        #expect(try await f.status(result.order.id) == .completed)

        let again = try await money.checkout.checkout(buyer: buyer, cart: nil, providerName: "test", idempotencyKey: "free-1")
        #expect(!again.isNew && again.order.id == result.order.id && again.redirectURL == result.redirectURL)
        // Nothing to refund.
        await expectSoukError(.conflict) {
            try await money.refunds.refund(orderID: result.order.id, amount: nil, reason: nil, by: .operatorCLI)
        }
    }

    /// A paid-and-fulfilled order through the test provider.
    func paidThroughTestProvider(_ money: MoneyPath, _ buyer: User, _ lines: [(Product, Int)]) async throws -> Order {
        let cart = try await money.fixture.cart(buyer, lines)
        let order = try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "test", idempotencyKey: nil).order
        _ = try await money.test.choose(.pay, sessionID: try #require(order.providerSessionID))
        try await money.runJobs()
        let paid = try #require(try await money.fixture.database.order(id: order.id))
        #expect(paid.status == .completed)
        return paid
    }

    @Test("Refunds: the seller of every line may; partial then full; access revoked; the provider's webhook adds nothing")
    func refundBySeller() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let buyer = try await f.buyer("b@example.com")
        let order = try await paidThroughTestProvider(money, buyer, [(product, 3)])

        let partial = try await money.refunds.refund(orderID: order.id, amount: 1000, reason: "  one broken  ", by: .user(seller))
        #expect(partial.status == .partiallyRefunded && partial.refundedAmount == 1000)
        let session = try #require(try await f.database.testSession(id: order.providerSessionID!))
        #expect(session.refundedAmount == 1000)
        // The charge.refunded webhook the provider sends changes nothing more.
        // (The other job that runs is the e-mail of the buyer's refund notice.)
        let run = try await money.runJobs()
        #expect(run.succeeded == 2 && run.failed == 0)
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 1000)
        #expect(try await f.database.notifications(userID: buyer.id).filter { $0.type == "order.refunded" }.count == 1)
        var records = try await f.database.refunds(orderID: order.id)
        #expect(records.count == 1)
        #expect(records.first?.requestedBy == seller.id && records.first?.reason == "one broken")
        #expect(records.first?.providerRefundID?.hasPrefix("re_test_") == true)

        // Too much is a validation error; nothing moves at the provider.
        let tooMuch = await expectSoukError(.validationFailed) {
            try await money.refunds.refund(orderID: order.id, amount: 2001, reason: nil, by: .user(seller))
        }
        #expect(tooMuch?.field == "amount")
        await expectSoukError(.validationFailed) {
            try await money.refunds.refund(orderID: order.id, amount: 0, reason: nil, by: .user(seller))
        }
        #expect(try await f.database.testSession(id: order.providerSessionID!)?.refundedAmount == 1000)

        f.clock.advance(5)
        let full = try await money.refunds.refund(orderID: order.id, amount: nil, reason: nil, by: .user(seller))
        #expect(full.status == .refunded && full.refundedAmount == 3000)
        #expect(try await f.database.grants(orderID: order.id).allSatisfy { $0.revokedAt != nil })
        try await money.runJobs()
        records = try await f.database.refunds(orderID: order.id)
        #expect(records.map(\.amount) == [1000, 2000])
        #expect(try await f.status(order.id) == .refunded)

        // Nothing left.
        await expectSoukError(.conflict) { try await money.refunds.refund(orderID: order.id, amount: nil, reason: nil, by: .user(seller)) }
        await expectSoukError(.notFound) { try await money.refunds.refund(orderID: "ord_nope", amount: nil, reason: nil, by: .operatorCLI) }
    }

    @Test("Refunds: a buyer, a seller of only some lines, or a stranger are forbidden; an admin may")
    func refundForbidden() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let ada = try await f.seller("ada@example.com")
        let bo = try await f.seller("bo@example.com")
        let a = try await f.product("A", by: ada, price: 1000)
        let b = try await f.product("B", by: bo, price: 500)
        let buyer = try await f.buyer("b@example.com")
        let order = try await paidThroughTestProvider(money, buyer, [(a, 1), (b, 1)])

        for user in [buyer, ada, bo, try await f.seller("stranger@example.com")] {
            await expectSoukError(.forbidden) {
                try await money.refunds.refund(orderID: order.id, amount: 100, reason: nil, by: .user(user))
            }
        }
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 0)
        #expect(try await f.database.testSession(id: order.providerSessionID!)?.refundedAmount == 0)

        let admin = try await f.admin()
        let refunded = try await money.refunds.refund(orderID: order.id, amount: nil, reason: nil, by: .user(admin))
        #expect(refunded.status == .refunded && refunded.refundedAmount == 1500)
        #expect(try await f.database.refunds(orderID: order.id).first?.requestedBy == admin.id)
    }

    @Test("An unpaid order cannot be refunded")
    func refundUnpaid() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let buyer = try await f.buyer("b@example.com")
        let order = try await money.checkout.checkout(
            buyer: buyer, cart: try await f.cart(buyer, [(product, 1)]), providerName: "test", idempotencyKey: nil
        ).order
        await expectSoukError(.conflict) { try await money.refunds.refund(orderID: order.id, amount: nil, reason: nil, by: .user(seller)) }
    }

    @Test("A payment arriving after expiry with the stock sold: refunded automatically by the auto_refund job")
    func autoRefund() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Last One", by: seller, price: 1000, stock: 1)
        let slow = try await f.buyer("slow@example.com")
        let order = try await money.checkout.checkout(
            buyer: slow, cart: try await f.cart(slow, [(product, 1)]), providerName: "test", idempotencyKey: nil
        ).order
        let sessionID = try #require(order.providerSessionID)

        // 30 minutes pass: the expiry job puts the stock back, and someone else buys it.
        f.clock.advance(30 * 60)
        try await money.runJobs()
        #expect(try await f.status(order.id) == .expired)
        #expect(try await f.stock(product) == 1)
        let fast = try await f.buyer("fast@example.com")
        _ = try await paidThroughTestProvider(money, fast, [(product, 1)])
        #expect(try await f.stock(product) == 0)

        // Then the slow buyer pays on the still-open hosted page.
        _ = try await money.test.choose(.pay, sessionID: sessionID)
        let run = try await money.runJobs()
        #expect(run.failed == 0)
        let refunded = try #require(try await f.database.order(id: order.id))
        #expect(refunded.status == .refunded)
        #expect(refunded.refundedAmount == 1000)
        #expect(try await f.database.grants(orderID: order.id).isEmpty)
        let records = try await f.database.refunds(orderID: order.id)
        #expect(records.count == 1)
        #expect(records.first?.requestedBy == "system")
        #expect(try await f.database.testSession(id: sessionID)?.refundedAmount == 1000)
        #expect(try await f.stock(product) == 0)
    }

    @Test("A late payment without stock is refunded whole: a partial refund is refused before the provider is asked")
    func latePaymentRefundIsWhole() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Last One", by: seller, price: 1000, stock: 1)
        let slow = try await f.buyer("slow@example.com")
        let order = try await money.checkout.checkout(
            buyer: slow, cart: try await f.cart(slow, [(product, 1)]), providerName: "test", idempotencyKey: nil
        ).order
        f.clock.advance(30 * 60)
        try await money.runJobs()
        _ = try await paidThroughTestProvider(money, try await f.buyer("fast@example.com"), [(product, 1)])
        // The late payment is recorded while the automatic refund waits (the provider said nothing yet).
        _ = try await f.database.recordPaymentEvent(
            f.event("late", order.id, f.payment(order, try #require(try await f.database.testSession(id: order.providerSessionID!)?.paymentID))))
        await expectSoukError(.validationFailed) {
            try await money.refunds.refund(orderID: order.id, amount: 100, reason: nil, by: .operatorCLI)
        }
        #expect(try await f.database.refunds(orderID: order.id).isEmpty)
    }

    @Test("A seller whose account is no longer verified cannot refund, even their own sale")
    func suspendedSellerCannotRefund() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let order = try await paidThroughTestProvider(money, try await f.buyer("b@example.com"), [(product, 1)])
        let suspended = try await f.database.setSellerStatus(email: "s@example.com", .suspended)
        await expectSoukError(.forbidden) {
            try await money.refunds.refund(orderID: order.id, amount: nil, reason: nil, by: .user(suspended))
        }
        #expect(try await f.status(order.id) == .completed)
    }

    @Test("Checkout with Stripe: one session for concurrent requests; a provider failure keeps the order for a retry")
    func stripeCheckout() async throws {
        let f = try OrdersFixture()
        let failFirst = Failing()
        let transport = RecordingTransport { request in
            if failFirst.take() {
                return RecordingTransport.json(402, #"{"error":{"message":"Your account cannot currently make live charges.","type":"invalid_request_error"}}"#)
            }
            let order = request.form["client_reference_id"] ?? "?"
            return RecordingTransport.json(200, #"{"id":"cs_live_\#(order)","url":"https://checkout.stripe.com/c/pay/\#(order)"}"#)
        }
        let money = await MoneyPath(f, stripeTransport: transport)
        #expect(money.providers.available == ["test", "stripe"])
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000, stock: 3)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(product, 1)])

        let error = await expectSoukError(.paymentProviderError) {
            try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "stripe", idempotencyKey: "s-1")
        }
        #expect(error?.detail.contains("Your account cannot currently make live charges.") == true)
        let kept = try await f.database.orders(.buyer(buyer.id))
        #expect(kept.count == 1 && kept.first?.status == .created && kept.first?.providerSessionID == nil)
        #expect(try await f.stock(product) == 2)

        let checkout = money.checkout
        let results = try await withThrowingTaskGroup(of: CheckoutService.Result.self) { group in
            for _ in 0..<6 {
                group.addTask { try await checkout.checkout(buyer: buyer, cart: cart, providerName: "stripe", idempotencyKey: "s-1") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let orderID = try #require(kept.first?.id)
        #expect(results.allSatisfy { $0.order.id == orderID && $0.redirectURL == "https://checkout.stripe.com/c/pay/\(orderID)" })
        #expect(transport.requests.count == 2, "one failed call, then one session for six concurrent requests")
        #expect(transport.requests.allSatisfy { $0.headers["Idempotency-Key"] == "souk-checkout-\(orderID)" })
        #expect(try await f.database.order(id: orderID)?.providerSessionID == "cs_live_\(orderID)")
        #expect(try await f.stock(product) == 2)
    }

    @Test("Retrying a failed Stripe checkout with the same key but another provider never leaves a payment unrecorded")
    func sameKeyOtherProvider() async throws {
        let f = try OrdersFixture()
        let failFirst = Failing()
        let transport = RecordingTransport { request in
            if failFirst.take() { return RecordingTransport.json(503, "unavailable") }
            let order = request.form["client_reference_id"] ?? "?"
            return RecordingTransport.json(200, #"{"id":"cs_live_\#(order)","url":"https://checkout.stripe.com/c/pay/\#(order)"}"#)
        }
        let money = await MoneyPath(f, stripeTransport: transport)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(product, 1)])
        await expectSoukError(.paymentProviderError) {
            try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "stripe", idempotencyKey: "same-key")
        }
        let order = try #require(try await f.database.orders(.buyer(buyer.id)).first)
        #expect(order.provider == "stripe" && order.providerSessionID == nil)

        // The client retries with the same key, now asking for the test provider. Refusing the
        // mismatch is fine; opening a session whose payment the order can never record is not.
        let retried: CheckoutService.Result
        do {
            retried = try await money.checkout.checkout(buyer: buyer, cart: cart, providerName: "test", idempotencyKey: "same-key")
        } catch is SoukError {
            return
        }
        #expect(retried.order.id == order.id)
        let sessionID = try #require(retried.order.providerSessionID)
        if try await f.database.testSession(id: sessionID) != nil {
            _ = try await money.test.choose(.pay, sessionID: sessionID)
            try await money.runJobs()
            let status = try await f.status(order.id)
            #expect(status == .paid || status == .fulfilled || status == .completed, "paid through the session checkout opened, the order is \(String(describing: status))")
        } else {
            #expect(retried.order.provider == "stripe" && transport.requests.count == 2)
        }
    }

    @Test("Disputed before fulfilment, then won: the order is fulfilled after all")
    func disputeBeforeFulfilment() async throws {
        let f = try OrdersFixture()
        let money = await MoneyPath(f)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let buyer = try await f.buyer("b@example.com")
        let order = try await money.checkout.checkout(
            buyer: buyer, cart: try await f.cart(buyer, [(product, 1)]), providerName: "test", idempotencyKey: nil
        ).order
        _ = try await money.test.choose(.pay, sessionID: try #require(order.providerSessionID))
        #expect(try await money.runJobsOnce().succeeded == 1)
        #expect(try await f.status(order.id) == .paid)
        // The bank disputes the charge before the fulfil job runs; the job then does nothing.
        _ = try await f.database.recordPaymentEvent(f.event("d1", order.id, .disputeOpened))
        try await money.runJobs()
        #expect(try await f.status(order.id) == .disputed)
        _ = try await f.database.recordPaymentEvent(f.event("d2", order.id, .disputeClosed(won: true)))
        #expect(try await f.status(order.id) == .paid)
        try await money.runJobs()
        // Delivered during the dispute (keys, receipt); once won, the order is complete.
        #expect(try await f.status(order.id) == .completed)
    }

    @Test("Stripe refunds: an unanswered attempt is retried with the same key; a refused one lets the next use a new key")
    func stripeRefundAttempts() async throws {
        let f = try OrdersFixture()
        let answers = Answers([
            (503, "<html>unavailable</html>"),
            (400, #"{"error":{"message":"Charge ch_9 has a dispute.","type":"invalid_request_error"}}"#),
            (200, #"{"id":"re_ok_1","object":"refund"}"#),
            (200, #"{"id":"re_ok_2","object":"refund"}"#),
        ])
        let transport = RecordingTransport { _ in answers.next() }
        let money = await MoneyPath(f, stripeTransport: transport)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let buyer = try await f.buyer("b@example.com")
        let order = try await f.placedOrder(buyer, [(product, 1)], provider: "stripe")
        #expect(
            try await f.database.recordPaymentEvent(f.event("evt_s", order.id, f.payment(order, "pi_s"), provider: "stripe"))
                == .applied(orderID: order.id, status: .paid))

        let unanswered = await expectSoukError(.paymentProviderError) {
            try await money.refunds.refund(orderID: order.id, amount: 400, reason: nil, by: .user(seller))
        }
        #expect(unanswered?.detail.contains("stripe.fake") == false, "the API address is for the log only")
        let refused = await expectSoukError(.paymentProviderError) {
            try await money.refunds.refund(orderID: order.id, amount: 400, reason: nil, by: .user(seller))
        }
        #expect(refused?.detail.contains("Charge ch_9 has a dispute.") == true, "\(String(describing: refused))")
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 0)
        #expect(try await f.database.refunds(orderID: order.id).isEmpty)

        let done = try await money.refunds.refund(orderID: order.id, amount: 400, reason: nil, by: .user(seller))
        #expect(done.status == .partiallyRefunded && done.refundedAmount == 400)
        _ = try await money.refunds.refund(orderID: order.id, amount: 400, reason: nil, by: .user(seller))
        #expect(try await f.database.order(id: order.id)?.refundedAmount == 800)
        #expect(try await f.database.refunds(orderID: order.id).map(\.providerRefundID) == ["re_ok_1", "re_ok_2"])

        let sent = transport.requests
        #expect(sent.count == 4)
        #expect(sent.allSatisfy { $0.url.path == "/v1/refunds" && $0.form["payment_intent"] == "pi_s" && $0.form["amount"] == "400" })
        let keys = sent.map { $0.headers["Idempotency-Key"] ?? "" }
        #expect(keys.allSatisfy { !$0.isEmpty })
        #expect(keys[0] == keys[1], "the outcome of the first attempt was unknown: the retry must reuse its key")
        #expect(keys[2] != keys[1], "the provider refused the second attempt: a new one gets a new key")
        #expect(keys[3] != keys[2], "a second refund of the same amount is not the first one again")
    }
}

@Suite("Stripe refunds racing their webhook")
struct StripeRefundRaceTests {
    /// Stripe answers a refund; before its answer reaches Souk, its `charge.refunded` webhook does.
    /// Since API version 2022-11-15 a Charge no longer embeds its `refunds` list, so the event
    /// carries the cumulative `amount_refunded` but no refund id.
    @Test(
        "A Stripe refund whose webhook (no refund id) is recorded before the API answer is counted once",
        arguments: [400, 1000])
    func stripeRefundWebhookFirst(amount: Int) async throws {
        let f = try OrdersFixture()
        let database = f.database
        let transport = RecordingTransport { request in
            guard request.url.path == "/v1/refunds", let orderID = request.form["metadata[order_id]"],
                let refunded = Int(request.form["amount"] ?? "")
            else { return RecordingTransport.json(404, #"{"error":{"message":"unexpected"}}"#) }
            let charge: [String: Any] = [
                "id": "ch_1", "object": "charge", "amount": 1000, "amount_refunded": refunded, "refunded": refunded == 1000,
                "payment_intent": request.form["payment_intent"] ?? "", "metadata": ["order_id": orderID],
            ]
            let body = try StripeFixtures.event("charge.refunded", id: "evt_refund_\(refunded)", object: charge)
            _ = try await database.recordPaymentEvent(try StripeEvents.parse(body, provider: "stripe"))
            return RecordingTransport.json(200, #"{"id":"re_1","object":"refund","status":"succeeded"}"#)
        }
        let money = await MoneyPath(f, stripeTransport: transport)
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller, price: 1000)
        let order = try await f.placedOrder(try await f.buyer("b@example.com"), [(product, 1)], provider: "stripe")
        _ = try await f.database.recordPaymentEvent(f.event("evt_paid", order.id, f.payment(order, "pi_1"), provider: "stripe"))

        let result = try await money.refunds.refund(orderID: order.id, amount: amount, reason: nil, by: .user(seller))
        #expect(result.refundedAmount == amount, "one refund of \(amount) was made")
        #expect(try await f.database.order(id: order.id)?.refundedAmount == amount)
        #expect(try await f.database.refunds(orderID: order.id).map(\.amount) == [amount])
    }
}

/// Answers from a list, in turn.
final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [(Int, String)]
    init(_ answers: [(Int, String)]) { queue = answers }
    func next() -> IncomingResponse {
        lock.withLock {
            let (status, body) = queue.isEmpty ? (500, "no more answers") : queue.removeFirst()
            return RecordingTransport.json(status, body)
        }
    }
}

/// Says true once.
final class Failing: @unchecked Sendable {
    private let lock = NSLock()
    private var armed = true
    func take() -> Bool { lock.withLock { defer { armed = false }; return armed } }
}
