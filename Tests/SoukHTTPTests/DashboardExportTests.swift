import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import Testing

@testable import SoukHTTP

@Suite("Dashboard export: the seller's own data as downloads")
struct DashboardExportTests {
    func csvRows(_ response: TestResponse) -> [String] {
        response.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    }

    @Test("A seller downloads their products and lines, never another seller's; buyers get 403, visitors sign in")
    func sellerOnly() async throws {
        let store = try TestStore { settings in settings.store.marketplace = true }
        try await store.run { browser in
            let (alice, formula, _) = try await store.sellerWithProduct(browser, email: "alice@example.com", title: "=cmd|x", files: [])
            let (_, rival, _) = try await store.sellerWithProduct(browser, email: "bob@example.com", title: "Rival Guide", files: [])
            let (buyer, orderID) = try await store.paidBuyer(browser, buying: [formula, rival])

            let page = try await alice.get("/dashboard/export", headers: [.accept: "text/html"])
            #expect(page.status == .ok)
            #expect(page.text.contains("/dashboard/export/orders.csv") && page.text.contains("/dashboard/export/payouts.json"))

            let orders = try await alice.get("/dashboard/export/orders.csv")
            #expect(orders.status == .ok)
            #expect(orders.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(orders.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"souk-orders.csv\"") == true)
            let lines = csvRows(orders)
            #expect(lines.first?.hasPrefix("order_id,order_item_id,order_status") == true)
            #expect(lines.count == 2, "one line of Alice's in the order, not Bob's: \(orders.text)")
            #expect(lines.dropFirst().allSatisfy { $0.contains(orderID) && $0.contains(formula) && !$0.contains(rival) })
            #expect(orders.text.hasSuffix("\r\n"))

            let products = try await alice.get("/dashboard/export/products.csv")
            #expect(products.text.contains(",'=cmd|x,"), "a formula title is written as text: \(products.text)")
            #expect(!products.text.contains(rival))
            let json = try await alice.get("/dashboard/export/products.json")
            #expect(json.headers[.contentType]?.hasPrefix("application/json") == true)
            let parsed = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [[String: Any]]
            #expect(parsed?.map { $0["id"] as? String } == [formula])
            #expect(parsed?.first?["price_minor"] as? Int == 900)

            #expect(try await alice.get("/dashboard/export/orders.xlsx").status == .notFound)
            #expect(try await alice.get("/dashboard/export/users.csv").status == .notFound)
            for path in ["/dashboard/export", "/dashboard/export/orders.csv"] {
                #expect(try await buyer.get(path, headers: [.accept: "text/html"]).status == .forbidden, "\(path)")
                let visitor = try await Browser(client: browser.client).get(path, headers: [.accept: "text/html"])
                #expect(visitor.status == .seeOther && visitor.location.hasPrefix("/signin"), "\(path)")
            }
        }
    }
}
