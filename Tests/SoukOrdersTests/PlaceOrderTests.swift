import Foundation
import GRDB
import SoukCore
import SoukDatabase
import Testing

@Suite("Placing an order")
struct PlaceOrderTests {
    @Test("Snapshots prices, splits fees per line, holds limited stock and schedules expiry at +30 min")
    func placeOrder() async throws {
        let f = try OrdersFixture()
        let ada = try await f.seller("ada@example.com", name: "Ada")
        let bo = try await f.seller("bo@example.com", name: "Bo")
        let book = try await f.product("Moth Atlas", by: ada, price: 999, stock: 10)
        let font = try await f.product("Grotesk", by: bo, price: 2500)
        let buyer = try await f.buyer("buyer@example.com")
        let cart = try await f.cart(buyer, [(book, 3), (font, 1)])

        let placed = try await f.database.placeOrder(f.draft(buyer, cart, key: "k-1", fee: 10))
        #expect(placed.isNew)
        let order = placed.order
        #expect(order.id.hasPrefix("ord_"))
        #expect(order.status == .created)
        #expect(order.buyerID == buyer.id)
        #expect(order.buyerEmail == "buyer@example.com")
        #expect(order.currency == "USD")
        #expect(order.provider == "test")
        #expect(order.total == 3 * 999 + 2500)
        #expect(order.refundedAmount == 0)
        #expect(order.providerSessionID == nil && order.providerPaymentID == nil && order.paidAt == nil)
        #expect(order.createdAt == f.clock.now())
        #expect(order.expiresAt == f.clock.now().addingTimeInterval(30 * 60))
        #expect(order.sellerIDs == [ada.id, bo.id])

        let lines = Dictionary(uniqueKeysWithValues: order.items.map { ($0.productID, $0) })
        let bookLine = try #require(lines[book.id])
        #expect(bookLine.sellerID == ada.id && bookLine.title == "Moth Atlas" && bookLine.kind == .download)
        #expect(bookLine.quantity == 3 && bookLine.unitAmount == 999 && bookLine.amount == 2997)
        #expect(bookLine.feeAmount == 300 && bookLine.sellerAmount == 2697)  // 299.7 → 300
        let fontLine = try #require(lines[font.id])
        #expect(fontLine.sellerID == bo.id && fontLine.quantity == 1 && fontLine.amount == 2500)
        #expect(fontLine.feeAmount == 250 && fontLine.sellerAmount == 2250)

        // Limited stock is held; unlimited stays unlimited.
        #expect(try await f.stock(book) == 7)
        #expect(try await f.stock(font) == nil)

        // The expiry job, due when the order stops holding its stock.
        let expiry = try await f.jobs(kind: "order_expiry")
        #expect(expiry.count == 1)
        #expect(expiry.first?.runAt == f.clock.now().addingTimeInterval(1800))
        #expect(expiry.first?.dedupeKey == "order_expiry:\(order.id)")
        #expect(try expiry.first?.decodePayload(OrderJobPayload.self) == OrderJobPayload(orderID: order.id))
        #expect(try await f.jobs(kind: "fulfil").isEmpty)

        // Prices are snapshotted: the product's later price change does not touch the order.
        _ = try await f.database.updateProduct(id: book.id) { $0.price.amount = 5000; $0.title = "Renamed" }
        let reread = try #require(try await f.database.order(id: order.id))
        #expect(reread == order)
        #expect(reread.items.first { $0.productID == book.id }?.unitAmount == 999)
        #expect(reread.items.first { $0.productID == book.id }?.title == "Moth Atlas")
    }

    @Test("The same key, or the same unchanged cart, returns the same order without holding stock twice")
    func idempotent() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Limited", by: seller, price: 500, stock: 10)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(product, 2)])

        let first = try await f.database.placeOrder(f.draft(buyer, cart, key: "key-A"))
        #expect(first.isNew)
        let again = try await f.database.placeOrder(f.draft(buyer, cart, key: "key-A"))
        #expect(!again.isNew)
        #expect(again.order.id == first.order.id)
        // Same unchanged cart, no key or another key: still the open order.
        let noKey = try await f.database.placeOrder(f.draft(buyer, cart))
        #expect(!noKey.isNew && noKey.order.id == first.order.id)
        let otherKey = try await f.database.placeOrder(f.draft(buyer, cart, key: "key-B"))
        #expect(!otherKey.isNew && otherKey.order.id == first.order.id)
        #expect(try await f.stock(product) == 8, "stock held once")
        #expect(try await f.count("SELECT COUNT(*) FROM orders") == 1)
        #expect(try await f.jobs(kind: "order_expiry").count == 1)

        // The same key with a changed cart is still the key's order (the key wins).
        let changed = try await f.cart(buyer, [(product, 3)])
        let byKey = try await f.database.placeOrder(f.draft(buyer, changed, key: "key-A"))
        #expect(!byKey.isNew && byKey.order.id == first.order.id)
        #expect(byKey.order.items.first?.quantity == 2)

        // A different cart without a known key is a new order.
        let second = try await f.database.placeOrder(f.draft(buyer, changed, key: "key-C"))
        #expect(second.isNew)
        #expect(second.order.id != first.order.id)
        #expect(second.order.total == 1500)
        #expect(try await f.stock(product) == 5)

        // The same unchanged cart with another provider is another order too.
        let other = try await f.database.placeOrder(f.draft(buyer, changed, provider: "stripe"))
        #expect(other.isNew && other.order.provider == "stripe")

        // Keys belong to one buyer: another buyer's "key-A" is their own order.
        let stranger = try await f.buyer("c@example.com")
        let strangerCart = try await f.cart(stranger, [(product, 1)])
        let theirs = try await f.database.placeOrder(f.draft(stranger, strangerCart, key: "key-A"))
        #expect(theirs.isNew && theirs.order.id != first.order.id && theirs.order.buyerID == stranger.id)
    }

    @Test("An unchanged cart whose order expired (or was paid) gets a new order")
    func digestOnlyMatchesOpenOrders() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Thing", by: seller, price: 500)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(product, 1)])
        let first = try await f.database.placeOrder(f.draft(buyer, cart)).order

        f.clock.advance(30 * 60 + 1)
        let afterLifetime = try await f.database.placeOrder(f.draft(buyer, cart))
        #expect(afterLifetime.isNew && afterLifetime.order.id != first.id, "an order past its expiry time is not reused")

        #expect(try await f.database.expireOrder(id: afterLifetime.order.id))
        let afterExpiry = try await f.database.placeOrder(f.draft(buyer, cart))
        #expect(afterExpiry.isNew && afterExpiry.order.id != afterLifetime.order.id)
    }

    @Test("Sold out or unavailable: conflict, and nothing is written")
    func soldOut() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let plenty = try await f.product("Plenty", by: seller, price: 100, stock: 3)
        let scarce = try await f.product("Scarce", by: seller, price: 100, stock: 1)
        let buyer = try await f.buyer("b@example.com")
        let cart = try await f.cart(buyer, [(plenty, 2), (scarce, 1)])

        // Someone bought the last one after this cart was read: the stock hold fails.
        try await f.setStock(scarce, 0)
        let error = await expectSoukError(.conflict) { try await f.database.placeOrder(f.draft(buyer, cart, key: "k")) }
        #expect(error?.field == "cart")
        #expect(error?.detail.contains("Scarce") == true)
        #expect(try await f.stock(plenty) == 3, "the first line's hold rolled back with the order")
        #expect(try await f.stock(scarce) == 0)
        #expect(try await f.count("SELECT COUNT(*) FROM orders") == 0)
        #expect(try await f.count("SELECT COUNT(*) FROM order_items") == 0)
        #expect(try await f.queue.jobs().isEmpty)

        // A fresh read of the cart marks the line unavailable: conflict before any write.
        let fresh = try #require(try await f.database.cart(of: .user(buyer.id)))
        #expect(fresh.lines.contains { !$0.isAvailable })
        await expectSoukError(.conflict) { try await f.database.placeOrder(f.draft(buyer, fresh)) }

        // A product unpublished since the cart was read.
        try await f.setStock(scarce, 5)
        let good = try #require(try await f.database.cart(of: .user(buyer.id)))
        _ = try await f.database.updateProduct(id: plenty.id) { $0.status = .archived }
        await expectSoukError(.conflict) { try await f.database.placeOrder(f.draft(buyer, good)) }
        // A seller suspended since.
        _ = try await f.database.updateProduct(id: plenty.id) { $0.status = .published }
        _ = try await f.database.setSellerStatus(email: "s@example.com", .suspended)
        await expectSoukError(.conflict) { try await f.database.placeOrder(f.draft(buyer, good)) }
        #expect(try await f.count("SELECT COUNT(*) FROM orders") == 0)
        #expect(try await f.stock(plenty) == 3)
        #expect(try await f.stock(scarce) == 5)
    }

    @Test("An empty cart is a validation error")
    func emptyCart() async throws {
        let f = try OrdersFixture()
        let buyer = try await f.buyer("b@example.com")
        let error = await expectSoukError(.validationFailed) {
            try await f.database.placeOrder(f.draft(buyer, Cart(id: "", lines: [], expiresAt: .distantFuture)))
        }
        #expect(error?.field == "cart")
    }

    @Test("20 buyers checking out the last 5 at once: exactly 5 orders, stock 0")
    func concurrentStock() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Hot Item", by: seller, price: 700, stock: 5)
        var drafts: [CheckoutDraft] = []
        for n in 0..<20 {
            let buyer = try await f.buyer("buyer\(n)@example.com")
            drafts.append(f.draft(buyer, try await f.cart(buyer, [(product, 1)]), key: "k\(n)"))
        }
        let database = f.database
        let results = await withTaskGroup(of: Result<String, any Error>.self) { group in
            for draft in drafts {
                group.addTask {
                    do { return .success(try await database.placeOrder(draft).order.id) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let placed = results.compactMap { try? $0.get() }
        #expect(placed.count == 5)
        #expect(Set(placed).count == 5)
        for case .failure(let error) in results {
            #expect((error as? SoukError)?.code == .conflict, "\(error)")
        }
        #expect(try await f.stock(product) == 0)
        #expect(try await f.count("SELECT COUNT(*) FROM orders") == 5)
        #expect(try await f.count("SELECT COUNT(*) FROM order_items WHERE stock_held") == 5)
        #expect(try await f.jobs(kind: "order_expiry").count == 5)
    }

    @Test("One buyer double-clicking: 8 concurrent checkouts of one cart make one order")
    func concurrentSameCart() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Item", by: seller, price: 700, stock: 10)
        let buyer = try await f.buyer("b@example.com")
        let draft = f.draft(buyer, try await f.cart(buyer, [(product, 2)]))
        let database = f.database
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await database.placeOrder(draft).order.id } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(try await f.stock(product) == 8)
    }

    @Test("expireOrder expires only created orders and puts their stock back; illegal transitions are conflicts")
    func expireAndTransition() async throws {
        let f = try OrdersFixture()
        let seller = try await f.seller("s@example.com")
        let product = try await f.product("Item", by: seller, price: 700, stock: 4)
        let buyer = try await f.buyer("b@example.com")

        let open = try await f.placedOrder(buyer, [(product, 3)])
        #expect(try await f.stock(product) == 1)
        #expect(try await f.database.expireOrder(id: open.id))
        #expect(try await f.status(open.id) == .expired)
        #expect(try await f.stock(product) == 4)
        // Again: nothing more changes, stock is not released twice.
        #expect(try await f.database.expireOrder(id: open.id) == false)
        #expect(try await f.stock(product) == 4)
        #expect(try await f.database.expireOrder(id: "ord_missing") == false)

        let other = try await f.buyer("c@example.com")
        let paid = try await f.paidOrder(other, [(product, 2)])
        #expect(try await f.stock(product) == 2)
        #expect(try await f.database.expireOrder(id: paid.id) == false)
        #expect(try await f.status(paid.id) == .paid)
        #expect(try await f.stock(product) == 2)

        // transitionOrder follows the lifecycle.
        #expect(try await f.database.transitionOrder(id: paid.id, to: .fulfilled).status == .fulfilled)
        await #expect(throws: SoukError(.conflict, "Order \(paid.id) is fulfilled and cannot become paid.")) {
            _ = try await f.database.transitionOrder(id: paid.id, to: .paid)
        }
        await #expect(throws: SoukError(.conflict, "Order \(open.id) is expired and cannot become fulfilled.")) {
            _ = try await f.database.transitionOrder(id: open.id, to: .fulfilled)
        }
        await expectSoukError(.notFound) { try await f.database.transitionOrder(id: "ord_missing", to: .paid) }
        #expect(try await f.status(paid.id) == .fulfilled)
    }
}
