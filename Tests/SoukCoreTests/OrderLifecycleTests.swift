import SoukCore
import Testing

@Suite("Order lifecycle, fees and checkout rules")
struct OrderLifecycleTests {
    /// The legal moves, written out independently of `OrderLifecycle` so a changed rule shows up.
    static let legal: [OrderStatus: Set<OrderStatus>] = [
        .created: [.paid, .expired, .paymentFailed, .canceled],
        .expired: [.paid, .refunded],
        .paymentFailed: [.paid, .expired, .refunded],
        .paid: [.fulfilled, .refunded, .partiallyRefunded, .disputed],
        .fulfilled: [.completed, .refunded, .partiallyRefunded, .disputed],
        .completed: [.refunded, .partiallyRefunded, .disputed],
        .partiallyRefunded: [.partiallyRefunded, .refunded, .disputed, .fulfilled, .completed],
        .disputed: [.paid, .fulfilled, .completed, .partiallyRefunded, .refunded],
        .refunded: [],
        .canceled: [],
    ]

    @Test("Every allowed move is allowed, and every other pair of states is refused")
    func wholeMatrix() throws {
        var allowedCount = 0
        for from in OrderStatus.allCases {
            for to in OrderStatus.allCases {
                let expected = Self.legal[from]?.contains(to) ?? false
                #expect(OrderLifecycle.allows(from, to) == expected, "\(from.rawValue) → \(to.rawValue)")
                if expected {
                    allowedCount += 1
                    #expect(throws: Never.self) { try OrderLifecycle.check(orderID: "ord_x", from: from, to: to) }
                }
            }
        }
        #expect(allowedCount == 30)
    }

    @Test(
        "Backward and terminal moves are refused",
        arguments: [
            (OrderStatus.refunded, OrderStatus.paid), (.completed, .created), (.expired, .fulfilled), (.paid, .created),
            (.paid, .expired), (.paid, .paymentFailed), (.paid, .paid), (.fulfilled, .paid), (.completed, .fulfilled),
            (.refunded, .partiallyRefunded), (.refunded, .disputed), (.canceled, .paid), (.canceled, .created),
            (.created, .fulfilled), (.created, .refunded), (.created, .disputed), (.expired, .created),
            (.paymentFailed, .fulfilled), (.partiallyRefunded, .paid), (.disputed, .created), (.disputed, .expired),
            (.created, .created),
        ])
    func forbidden(from: OrderStatus, to: OrderStatus) {
        #expect(!OrderLifecycle.allows(from, to))
    }

    @Test("check throws conflict naming the order and both states")
    func checkNamesTheOrder() {
        #expect(throws: SoukError(.conflict, "Order ord_42 is refunded and cannot become paid.")) {
            try OrderLifecycle.check(orderID: "ord_42", from: .refunded, to: .paid)
        }
        do {
            try OrderLifecycle.check(orderID: "ord_7", from: .expired, to: .fulfilled)
            Issue.record("expired → fulfilled was allowed")
        } catch let error as SoukError {
            #expect(error.code == .conflict)
            #expect(error.detail.contains("ord_7"))
            #expect(error.detail.contains("expired") && error.detail.contains("fulfilled"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        // Raw values, not Swift case names, are what the message shows.
        #expect(throws: SoukError(.conflict, "Order o is payment_failed and cannot become partially_refunded.")) {
            try OrderLifecycle.check(orderID: "o", from: .paymentFailed, to: .partiallyRefunded)
        }
    }

    @Test("Paid-up states and what is left to refund")
    func paidUp() {
        #expect(Set(OrderStatus.allCases.filter(\.isPaidUp)) == [.paid, .fulfilled, .completed, .partiallyRefunded, .disputed])
        #expect(OrderStatus(rawValue: "payment_failed") == .paymentFailed)
        #expect(OrderStatus(rawValue: "partially_refunded") == .partiallyRefunded)
    }

    // MARK: Fees

    @Test(
        "Fee split: rounded half up to whole minor units; fee + seller = amount",
        arguments: [
            // (amount, percent, fee, seller)
            (999, 0.0, 0, 999),
            (999, 10.0, 100, 899),  // 99.9 → 100
            (1000, 10.0, 100, 900),
            (5, 10.0, 1, 4),  // 0.5 → 1 (half up)
            (4, 10.0, 0, 4),  // 0.4 → 0 (to the seller)
            (4, 12.5, 1, 3),  // 0.5 → 1
            (999, 12.5, 125, 874),  // 124.875 → 125
            (1001, 12.5, 125, 876),  // 125.125 → 125
            (999, 100.0, 999, 0),
            (0, 10.0, 0, 0),
            (999, 150.0, 999, 0),  // clamped to 100 %
            (999, -5.0, 0, 999),  // clamped to 0 %
            (1, 49.99, 0, 1),
            (1, 50.0, 1, 0),
            (10_000_000_000, 2.9, 290_000_000, 9_710_000_000),  // a large amount does not overflow
        ])
    func feeSplit(amount: Int, percent: Double, fee: Int, seller: Int) {
        let split = MarketplaceFees.split(amount: amount, feePercent: percent)
        #expect(split.fee == fee, "\(percent)% of \(amount)")
        #expect(split.seller == seller, "\(percent)% of \(amount)")
        #expect(split.fee + split.seller == amount)
    }

    // MARK: Checkout rules

    @Test("Idempotency keys: 1…255 printable ASCII characters without spaces; none is fine")
    func idempotencyKeys() throws {
        #expect(try CheckoutRules.idempotencyKey(nil) == nil)
        for good in ["a", "order-2024-01-01_abc", "!~", String(repeating: "k", count: 255), "{uuid}=/+"] {
            #expect(try CheckoutRules.idempotencyKey(good) == good)
        }
        let bad = [
            "", " ", "two words", "tab\there", "new\nline", String(repeating: "k", count: 256), "café", "naïve-key",
            "emoji-🙂", "\u{01}ctrl", "trailing ",
        ]
        for key in bad {
            #expect(throws: SoukError.self, "\(key.debugDescription) should be refused") {
                _ = try CheckoutRules.idempotencyKey(key)
            }
            do {
                _ = try CheckoutRules.idempotencyKey(key)
            } catch let error as SoukError {
                #expect(error.code == .badRequest)
            } catch {}
        }
    }

    @Test("Idempotency keys: DEL (0x7F) is not printable and is refused")
    func idempotencyKeyDelete() {
        #expect(throws: SoukError.self) { _ = try CheckoutRules.idempotencyKey("key\u{7F}") }
    }

    @Test("Checkout constants: orders live 30 minutes; three providers")
    func constants() {
        #expect(CheckoutRules.orderLifetime == 1800)
        #expect(CheckoutRules.providers == ["stripe", "paypal", "test"])
    }
}
