import Foundation
import SoukCore
import Testing

/// Checkout pricing, refunds and payouts, decided without a database (issue 11).
@Suite("Decisions: checkout, refunds, payouts")
struct MoneyDecisionTests {
    typealias F = Fixtures

    // MARK: Checkout

    func cart(_ lines: [CartLine]) -> Cart { Cart(id: "cart_1", lines: lines, expiresAt: F.now.addingTimeInterval(86_400)) }

    func conflict(_ body: () throws -> Void) -> SoukError? {
        do {
            try body()
            return nil
        } catch let error as SoukError {
            return error
        } catch {
            return nil
        }
    }

    @Test("A cart becomes an order: prices snapshotted, fees split per line, the hold ends in 30 minutes")
    func checkoutPlan() throws {
        let book = F.product("prod_book", price: 1999)
        let zine = F.product("prod_zine", price: 500, stock: 3, seller: "usr_other")
        let plan = try CheckoutDecision.plan(
            cart: cart([F.cartLine(book, quantity: 2), F.cartLine(zine)]),
            current: [book.id: book, zine.id: zine], feePercent: 10, now: F.now)
        #expect(plan.total == 2 * 1999 + 500 && plan.currency == "USD")
        #expect(plan.items.map(\.amount) == [3998, 500])
        #expect(plan.items.map(\.feeAmount) == [400, 50])
        #expect(plan.items.map(\.sellerAmount) == [3598, 450])
        #expect(plan.items.map(\.holdsStock) == [false, true])
        #expect(plan.expiresAt == F.now.addingTimeInterval(CheckoutRules.orderLifetime))
        let job = try CheckoutDecision.expiryJob(orderID: "ord_1", at: plan.expiresAt)
        #expect(job.kind == "order_expiry" && job.runAt == plan.expiresAt && job.dedupeKey == "order_expiry:ord_1")
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var line: CartLine?
        var current: Product?
        var code: SoukError.Code
        var detail: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "empty cart", line: nil, current: nil, code: .validationFailed, detail: "Your cart is empty."),
        Refusal(
            name: "price changed since it was added", line: F.cartLine(F.product(price: 1000)),
            current: F.product(price: 1200), code: .conflict,
            detail: "The price of Title of prod_a has just changed: check your cart and try again."),
        Refusal(
            name: "pay what you want below the new minimum", line: F.cartLine(F.product(price: 500, minimum: 300), unit: 300),
            current: F.product(price: 500, minimum: 400), code: .conflict,
            detail: "The price of Title of prod_a has just changed: check your cart and try again."),
        Refusal(
            name: "unpublished since", line: F.cartLine(F.product()), current: F.product(status: .draft), code: .conflict,
            detail: "Title of prod_a is no longer on sale; remove it from your cart."),
        Refusal(
            name: "its seller was suspended", line: F.cartLine(F.product()), current: F.product(listed: false),
            code: .conflict, detail: "Title of prod_a is no longer on sale; remove it from your cart."),
        Refusal(
            name: "deleted since", line: F.cartLine(F.product()), current: nil, code: .conflict,
            detail: "Title of prod_a is no longer on sale; remove it from your cart."),
        Refusal(
            name: "currency changed", line: F.cartLine(F.product()), current: F.product(currency: "EUR"), code: .conflict,
            detail: "The price of Title of prod_a has just changed: check your cart and try again."),
    ]

    @Test("A cart that cannot be bought as it is is refused with the reason", arguments: refusals)
    func checkoutRefusals(_ r: Refusal) {
        let error = conflict {
            _ = try CheckoutDecision.plan(
                cart: cart(r.line.map { [$0] } ?? []), current: r.current.map { [$0.id: $0] } ?? [:], feePercent: 0, now: F.now)
        }
        #expect(error?.code == r.code)
        #expect(error?.detail == r.detail)
    }

    @Test("Pay what you want: at least the minimum is taken as offered")
    func payWhatYouWant() throws {
        let product = F.product(price: 500, minimum: 300)
        let plan = try CheckoutDecision.plan(
            cart: cart([F.cartLine(product, unit: 800)]), current: [product.id: product], feePercent: 0, now: F.now)
        #expect(plan.total == 800)
        #expect(CheckoutDecision.soldOut(F.product(stock: 0)).detail == "Title of prod_a is sold out.")
        #expect(CheckoutDecision.soldOut(F.product(stock: 2)).detail == "Only 2 of Title of prod_a left.")
    }

    // MARK: Refunds

    struct RefundCase: Sendable, CustomTestStringConvertible {
        var name: String
        var order: Order
        var amount: Int
        var status: OrderStatus?
        var refundedAfter: Int = 0
        var testDescription: String { name }
    }

    static let refundCases: [RefundCase] = [
        RefundCase(name: "part of a fulfilled order", order: F.order(.fulfilled), amount: 400, status: .partiallyRefunded, refundedAfter: 400),
        RefundCase(name: "the rest after a partial refund", order: F.order(.partiallyRefunded, refunded: 400), amount: 600, status: .refunded, refundedAfter: 1000),
        RefundCase(name: "a second partial refund", order: F.order(.partiallyRefunded, refunded: 400), amount: 100, status: .partiallyRefunded, refundedAfter: 500),
        RefundCase(name: "all of a completed order", order: F.order(.completed), amount: 1000, status: .refunded, refundedAfter: 1000),
        RefundCase(name: "more than is left", order: F.order(.partiallyRefunded, refunded: 400), amount: 601, status: nil),
        RefundCase(name: "nothing", order: F.order(.paid), amount: 0, status: nil),
        RefundCase(name: "an unpaid order", order: F.order(.created), amount: 100, status: nil),
        RefundCase(name: "an order refunded in full", order: F.order(.refunded, refunded: 1000), amount: 1, status: nil),
        RefundCase(
            name: "a late payment whose stock is gone (never paid, refunded whole)",
            order: F.order(.expired, payment: "pi_late"), amount: 1000, status: .refunded, refundedAfter: 1000),
        RefundCase(name: "an expired order nobody paid", order: F.order(.expired), amount: 1000, status: nil),
    ]

    @Test("What a refund does to its order", arguments: refundCases)
    func refunds(_ c: RefundCase) {
        let entry = try? RefundDecision.entry(
            refundID: "ref_1", order: c.order, amount: c.amount, reason: "asked", providerRefundID: nil, requestedBy: "operator")
        #expect(entry?.status == c.status)
        if let entry {
            #expect(entry.refundedAmount == c.refundedAfter)
            #expect(entry.revokesAccess == (c.status == .refunded))
            #expect(entry.notice.title == "Refund for order ord_1")
        } else {
            let error = conflict {
                _ = try RefundDecision.entry(
                    refundID: "ref_1", order: c.order, amount: c.amount, reason: nil, providerRefundID: nil, requestedBy: "operator")
            }
            #expect(error?.code == .conflict)
        }
    }

    // MARK: Payouts

    func line(
        _ order: String, seller: String, amount: Int, fee: Int = 0, total: Int, refunded: Int = 0,
        status: OrderStatus = .completed, currency: String = "USD"
    ) -> PayoutLine {
        PayoutLine(
            orderID: order, orderStatus: status, orderTotal: total, orderRefunded: refunded, currency: currency,
            sellerID: seller, sellerName: seller == "usr_ada" ? "Ada" : "Bob", sellerEmail: "\(seller)@example.com",
            amount: amount, feeAmount: fee, sellerAmount: amount - fee)
    }

    @Test("A refund is shared by line in proportion, the seller bears the fee's part, disputes are held")
    func payouts() {
        let lines = [
            // One order, two sellers, 10 % fee, 600 of 2000 refunded: shares 300 and 300.
            line("ord_a", seller: "usr_ada", amount: 1000, fee: 100, total: 2000, refunded: 600, status: .partiallyRefunded),
            line("ord_a", seller: "usr_bob", amount: 1000, fee: 100, total: 2000, refunded: 600, status: .partiallyRefunded),
            // Bob's disputed order: held back.
            line("ord_b", seller: "usr_bob", amount: 500, fee: 50, total: 500, status: .disputed),
            // Ada in another currency.
            line("ord_c", seller: "usr_ada", amount: 700, total: 700, currency: "EUR"),
        ]
        let balances = Payouts.balances(lines)
        #expect(balances.map { "\($0.sellerName) \($0.currency)" } == ["Ada EUR", "Ada USD", "Bob USD"])
        let adaUSD = balances[1]
        #expect(adaUSD.gross == 1000 && adaUSD.fees == 100 && adaUSD.refunds == 300)
        #expect(adaUSD.owed == 900 - 270)  // 90 % of her 300 refund share comes off her 900
        let bob = balances[2]
        #expect(bob.owed == 900 - 270 && bob.onHold == 450)
        #expect(balances[0].owed == 700)
        // One seller's own view: the same numbers as in the whole report.
        #expect(Payouts.balances(lines, sellerID: "usr_bob") == [bob])
    }

    @Test("Shares of a refund add up to the refund exactly, whatever the split", arguments: [
        (1, [1, 1, 1]), (100, [1, 1, 1]), (1000, [333, 333, 334]), (7, [5, 0, 2]), (999_999, [1, 2, 3, 4]),
    ])
    func shares(_ amount: Int, _ parts: [Int]) {
        let total = parts.reduce(0, +)
        let shares = Payouts.share(min(amount, total), by: parts, total: total)
        #expect(shares.reduce(0, +) == min(amount, total))
        for (share, part) in zip(shares, parts) { #expect(share <= part) }
    }

    @Test("Amounts times amounts do not overflow")
    func mulDiv() {
        #expect(Payouts.mulDiv(Int.max / 2, 4, 8).quotient == Int.max / 4)
        #expect(Payouts.mulDiv(5, 1, 2, roundingHalfUp: true).quotient == 3)
        #expect(Payouts.share(0, by: [1, 2], total: 3) == [0, 0])
    }
}
