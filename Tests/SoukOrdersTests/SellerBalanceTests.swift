import Foundation
import SoukCore
import SoukDatabase
import Testing

@Suite("Seller balances")
struct SellerBalanceTests {
    @Test("Two sellers, 10 % fee, a partial refund shared by line, a disputed order on hold, unpaid orders left out")
    func balances() async throws {
        let f = try OrdersFixture(provider: "stripe")
        let ada = try await f.seller("ada@example.com", name: "Ada")
        let bo = try await f.seller("bo@example.com", name: "Bo")
        let a1 = try await f.product("A1", by: ada, price: 1000)
        let a2 = try await f.product("A2", by: ada, price: 500)
        let euro = try await f.product("Euro", by: ada, price: 700, currency: "EUR")
        let b1 = try await f.product("B1", by: bo, price: 2000)
        let b2 = try await f.product("B2", by: bo, price: 999)

        // Both sellers in one order, 600 of 3000 refunded: Ada's line carries 200, Bo's 400.
        let shared = try await f.paidOrder(try await f.buyer("one@example.com"), [(a1, 1), (b1, 1)], fee: 10)
        #expect(
            try await f.database.recordPaymentEvent(f.event("r", shared.id, .refunded(totalRefunded: 600, refundID: "re_s")))
                == .applied(orderID: shared.id, status: .partiallyRefunded))
        // Ada's disputed order: held back.
        let disputed = try await f.paidOrder(try await f.buyer("two@example.com"), [(a2, 1)], fee: 10)
        _ = try await f.database.recordPaymentEvent(f.event("d", disputed.id, .disputeOpened))
        // Not paid: not counted.
        _ = try await f.placedOrder(try await f.buyer("three@example.com"), [(b1, 1)], fee: 10)
        let expired = try await f.placedOrder(try await f.buyer("four@example.com"), [(a1, 1)], fee: 10)
        #expect(try await f.database.expireOrder(id: expired.id))
        let failed = try await f.placedOrder(try await f.buyer("five@example.com"), [(b2, 1)], fee: 10)
        _ = try await f.database.recordPaymentEvent(f.event("f", failed.id, .failed))
        // Bo's fully refunded order: gross and fees count, nothing owed.
        let refunded = try await f.paidOrder(try await f.buyer("six@example.com"), [(b2, 1)], fee: 10)
        _ = try await f.database.recordPaymentEvent(f.event("rr", refunded.id, .refunded(totalRefunded: 999, refundID: "re_r")))
        // Ada's euro sale is its own balance.
        _ = try await f.paidOrder(try await f.buyer("seven@example.com"), [(euro, 1)], fee: 10)

        let balances = try await f.database.sellerBalances()
        #expect(balances.map { "\($0.sellerName) \($0.currency)" } == ["Ada EUR", "Ada USD", "Bo USD"])
        let adaEUR = try #require(balances.first { $0.sellerID == ada.id && $0.currency == "EUR" })
        #expect(adaEUR.gross == 700 && adaEUR.fees == 70 && adaEUR.refunds == 0 && adaEUR.owed == 630 && adaEUR.onHold == 0)

        let adaUSD = try #require(balances.first { $0.sellerID == ada.id && $0.currency == "USD" })
        #expect(adaUSD.sellerEmail == "ada@example.com")
        #expect(adaUSD.gross == 1500)
        #expect(adaUSD.fees == 150)
        #expect(adaUSD.refunds == 200)
        #expect(adaUSD.owed == 900 - 180)  // her 900 share less 90 % of her 200 refund share
        #expect(adaUSD.onHold == 450)

        let boUSD = try #require(balances.first { $0.sellerID == bo.id })
        #expect(boUSD.gross == 2000 + 999)
        #expect(boUSD.fees == 200 + 100)
        #expect(boUSD.refunds == 400 + 999)
        #expect(boUSD.owed == 1800 - 360)
        #expect(boUSD.onHold == 0)

        // The dispute is won: the money is owed again, nothing on hold.
        _ = try await f.database.recordPaymentEvent(f.event("dw", disputed.id, .disputeClosed(won: true)))
        let after = try #require(try await f.database.sellerBalances().first { $0.sellerID == ada.id && $0.currency == "USD" })
        #expect(after.owed == 720 + 450 && after.onHold == 0)
    }

    @Test("No paid orders: no balances")
    func empty() async throws {
        let f = try OrdersFixture(provider: "stripe")
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("P", by: seller)
        _ = try await f.placedOrder(try await f.buyer("b@example.com"), [(product, 1)], fee: 10)
        #expect(try await f.database.sellerBalances().isEmpty)
    }

    @Test("A refund shared by three equal lines adds up to the refund exactly")
    func refundSharesAddUp() async throws {
        let f = try OrdersFixture(provider: "stripe")
        let sellers = [
            try await f.seller("x@example.com", name: "X"), try await f.seller("y@example.com", name: "Y"),
            try await f.seller("z@example.com", name: "Z"),
        ]
        var lines: [(Product, Int)] = []
        for (index, seller) in sellers.enumerated() { lines.append((try await f.product("P\(index)", by: seller, price: 1000), 1)) }
        let order = try await f.paidOrder(try await f.buyer("b@example.com"), lines, fee: 0)
        _ = try await f.database.recordPaymentEvent(f.event("r", order.id, .refunded(totalRefunded: 2000, refundID: "re_1")))
        let balances = try await f.database.sellerBalances()
        #expect(balances.map(\.refunds).sorted() == [666, 667, 667])
        #expect(balances.map(\.refunds).reduce(0, +) == 2000)
        #expect(balances.map(\.owed).reduce(0, +) == 1000)
        // One seller's own view sees the same share as the whole report.
        let y = try await f.database.sellerBalances(sellerID: sellers[1].id)
        #expect(y.count == 1 && y[0].refunds == balances.first { $0.sellerID == sellers[1].id }!.refunds)
    }

    @Test("Test orders moved no money: never counted in a balance, whatever their state")
    func testOrdersNeverCount() async throws {
        let f = try OrdersFixture(provider: "test")
        let seller = try await f.seller("s@example.com", name: "S")
        let product = try await f.product("P", by: seller, price: 1500)
        let order = try await f.paidOrder(try await f.buyer("b@example.com"), [(product, 2)], fee: 10)
        #expect(order.isTest)
        #expect(try await f.database.sellerBalances().isEmpty)
        #expect(try await f.database.sellerBalances(sellerID: seller.id).isEmpty)
        // A real order beside it is counted alone.
        let real = try OrdersFixture(provider: "stripe")
        let realSeller = try await real.seller("r@example.com", name: "R")
        let realProduct = try await real.product("P", by: realSeller, price: 1500)
        _ = try await real.paidOrder(try await real.buyer("b@example.com"), [(realProduct, 1)], fee: 10)
        #expect(try await real.database.sellerBalances().map(\.owed) == [1350])
    }
}
