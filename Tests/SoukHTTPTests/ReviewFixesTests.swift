import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import Testing

/// Regressions found in review: suspended sellers' products, parallel password guessing,
/// X-Forwarded-For spoofing, internal error details.
@Suite("Hardening")
struct HardeningTests {
    @Test("A suspended seller's product leaves the store: its page and API answer 404 to others")
    func suspendedSellerProduct() async throws {
        let store = try TestStore { $0.store.marketplace = true }
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "s@example.com")
            let product = try await seller.createProduct("Moth Atlas", publish: true)
            let id = try #require(product["id"] as? String)
            let slug = try #require(product["slug"] as? String)
            let visitor = Browser(client: browser.client)
            #expect(try await visitor.get("/api/v1/products/\(id)").status == .ok)

            _ = try await store.database.setSellerStatus(email: "s@example.com", .suspended)
            #expect(try await visitor.get("/api/v1/products/\(id)").status == .notFound)
            #expect(try await visitor.get("/products/\(slug)", headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await visitor.search("q=moth").titles.isEmpty)
            // The seller still sees their own product (to fix what the operator objected to).
            #expect(try await seller.get("/api/v1/products/\(id)").status == .ok)
        }
    }

    @Test("Parallel wrong passwords cannot slip past the per-account limit")
    func parallelGuesses() async throws {
        try await TestStore { $0.limits.loginPerIPPerMinute = 0 }.run { browser in
            try await browser.register("victim@example.com", password: "the real one")
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await Browser(client: browser.client).json(
                            .post, "/api/v1/auth/login", #"{"email":"victim@example.com","password":"guess \#(index)"}"#
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == 5, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 15)
        }
    }

    @Test("Behind a proxy, the client address is the entry the proxy added, not one the client wrote")
    func forwardedFor() async throws {
        try await TestStore {
            $0.server.trustForwardedFor = true
            $0.limits.signupPerIPPerHour = 2
        }.run { browser in
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<3 {
                let response = try await Browser(client: browser.client).json(
                    .post, "/api/v1/auth/register",
                    #"{"email":"u\#(index)@example.com","password":"12345678","name":"U"}"#,
                    headers: [.init("X-Forwarded-For")!: "10.0.0.\(index), 203.0.113.7"])
                statuses.append(response.status)
            }
            #expect(statuses == [.created, .created, .tooManyRequests])
        }
    }
}
