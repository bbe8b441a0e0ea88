import Foundation
import GRDB
import SoukCore
@testable import SoukDatabase
import Testing

@Suite("A product's license keys, a page at a time")
struct LicenseKeysPageTests {
    /// 120 keys of one product (pairs issued in the same second), bought by three buyers, the
    /// first with a seat taken; one key of another product.
    func store() async throws -> (TestStore, Product, [String]) {
        let store = try TestStore()
        let seller = try await store.seller("seller@example.com")
        let product = try await store.product("App", by: seller)
        let other = try await store.product("Other", by: seller)
        var made: [User] = []
        for n in 0..<3 { made.append(try await store.buyer("buyer\(n)@example.com")) }
        let buyers = made
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.database.writer.write { db in
            for n in 0...120 {
                let buyer = buyers[n % 3]
                let at = start + Double(n / 2)
                let productID = n == 120 ? other.id : product.id
                try db.execute(
                    sql: """
                        INSERT INTO orders (id, buyer_id, buyer_email, status, currency, total, provider, cart_digest,
                            created_at, updated_at, expires_at, number)
                        VALUES (?, ?, ?, 'completed', 'USD', 500, 'test', 'x', ?, ?, ?, ?)
                        """, arguments: ["ord_\(n)", buyer.id, buyer.email, at, at, at, 1000 + n])
                try db.execute(
                    sql: """
                        INSERT INTO order_items (id, order_id, product_id, seller_id, title, kind, quantity, unit_amount,
                            amount, fee_amount, seller_amount) VALUES (?, ?, ?, ?, 'App', 'license', 1, 500, 500, 0, 500)
                        """, arguments: ["oi_\(n)", "ord_\(n)", productID, seller.id])
                try db.execute(
                    sql: "INSERT INTO grants (id, order_id, order_item_id, user_id, product_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: ["gr_\(n)", "ord_\(n)", "oi_\(n)", buyer.id, productID, at])
                try db.execute(
                    sql: """
                        INSERT INTO license_keys (id, key, grant_id, order_id, product_id, user_id, unit, status, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, 1, 'active', ?, ?)
                        """, arguments: [String(format: "lic_%03d", n), "KEY-\(n)", "gr_\(n)", "ord_\(n)", productID, buyer.id, at, at])
            }
            try db.execute(
                sql: "INSERT INTO license_activations (id, license_id, instance_name, created_at) VALUES ('ins_1', 'lic_000', 'laptop', ?)",
                arguments: [start])
        }
        // Newest first: by time, then by id.
        let ids = (0..<120).map { String(format: "lic_%03d", $0) }.reversed()
        return (store, product, Array(ids))
    }

    @Test("Newest first, page after page and back, each key with its buyer and seats; a key of another product is no position")
    func pages() async throws {
        let (store, product, ids) = try await store()
        var listed: [String] = []
        var position: AppDatabase.ListPosition?
        repeat {
            let (page, from) = try await store.database.licenseKeysPage(productID: product.id, from: position, matching: nil, limit: 50)
            #expect(from == position)
            listed += page.map(\.license.id)
            position = page.count == 50 ? .olderThan(id: page.last!.license.id) : nil
        } while position != nil
        #expect(listed == ids)
        let back = try await store.database.licenseKeysPage(productID: product.id, from: .newerThan(id: ids[80]), matching: nil, limit: 50)
        #expect(back.keys.map(\.license.id) == Array(ids[30..<80]))
        let oldest = try await store.database.licenseKeysPage(productID: product.id, from: .olderThan(id: ids[118]), matching: nil, limit: 50)
        #expect(oldest.keys.map(\.license.id) == ["lic_000"])
        #expect(oldest.keys.first?.buyerEmail == "buyer0@example.com")
        #expect(oldest.keys.first?.license.activations.map(\.instanceName) == ["laptop"])
        let foreign = try await store.database.licenseKeysPage(productID: product.id, from: .olderThan(id: "lic_120"), matching: nil, limit: 5)
        #expect(foreign.from == nil && foreign.keys.map(\.license.id) == Array(ids[0..<5]))
    }

    @Test("Found by the whole key, whatever its case, or by any part of the buyer's address")
    func lookup() async throws {
        let (store, product, _) = try await store()
        let byKey = try await store.database.licenseKeysPage(productID: product.id, from: nil, matching: " key-7 ", limit: 50)
        #expect(byKey.keys.map(\.license.key) == ["KEY-7"])
        let byBuyer = try await store.database.licenseKeysPage(productID: product.id, from: nil, matching: "BUYER1@", limit: 50)
        #expect(byBuyer.keys.count == 40 && byBuyer.keys.allSatisfy { $0.buyerEmail == "buyer1@example.com" })
        #expect(try await store.database.licenseKeysPage(productID: product.id, from: nil, matching: "KEY-120", limit: 50).keys.isEmpty)
        // Text hundreds of accounts hold: every buyer of the product whose address holds it.
        try await store.database.writer.write { db in
            for n in 0..<600 {
                try db.execute(
                    sql: "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, 'X', 'x', 'buyer', ?, ?)",
                    arguments: ["usr_many\(n)", "many\(n)@example.com", Date(), Date()])
            }
        }
        let broad = try await store.database.licenseKeysPage(productID: product.id, from: nil, matching: "example.com", limit: 200)
        #expect(broad.keys.count == 120)
        let plan = try await store.database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: "EXPLAIN QUERY PLAN SELECT * FROM license_keys k WHERE k.product_id = ? ORDER BY k.created_at DESC, k.id DESC LIMIT 51",
                arguments: [product.id]
            ).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("license_keys_product_created") } && !plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }
}

@Suite("A buyer's library, a page at a time")
struct LibraryPageTests {
    @Test("The whole library's order, page after page and back; another buyer's purchase is no position")
    func pages() async throws {
        let (store, _, _) = try await LicenseKeysPageTests().store()
        let buyer = try #require(try await store.database.users(emailContains: "buyer1@", role: nil, limit: 1, offset: 0).first)
        let whole = try await store.database.library(userID: buyer.id, defaultDownloadLimit: 5).map(\.grantID)
        #expect(whole.count == 40)
        var listed: [String] = []
        var position: AppDatabase.ListPosition?
        repeat {
            let (page, from) = try await store.database.library(userID: buyer.id, defaultDownloadLimit: 5, from: position, limit: 15)
            #expect(from == position)
            listed += page.map(\.grantID)
            position = page.count == 15 ? .olderThan(id: page.last!.grantID) : nil
        } while position != nil
        #expect(listed == whole)
        let back = try await store.database.library(userID: buyer.id, defaultDownloadLimit: 5, from: .newerThan(id: whole[30]), limit: 15)
        #expect(back.entries.map(\.grantID) == Array(whole[15..<30]))
        #expect(back.entries.first?.licenseKeys.count == 1)
        let theirs = try await store.database.library(userID: buyer.id, defaultDownloadLimit: 5, from: .olderThan(id: "gr_0"), limit: 3)
        #expect(theirs.from == nil && theirs.entries.map(\.grantID) == Array(whole[0..<3]))
    }
}
