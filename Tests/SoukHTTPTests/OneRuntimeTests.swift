import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
import SoukDatabase
import SoukHTTP
import SoukRuntime
import Testing

/// Issue 11, acceptance 5: the whole money path and the job runner (`souk serve`'s and `souk jobs
/// run`'s, both `SoukRuntime.jobRunner`) use one runtime: its providers and its job registry are
/// built once, however many requests, jobs and refunds follow.
@Suite("One runtime")
struct OneRuntimeTests {
    @Test("Checkout → webhook → fulfil → receipt → completed → refund builds the providers and the job registry once")
    func buildsOnce() async throws {
        let counts = ConstructionCounts()
        try await ConstructionCounts.$current.withValue(counts) {
            let store = try TestStore { $0.store.marketplace = true }
            try await store.runWithRuntime { browser, runtime in
                // Built once, with the runtime: one set of providers (the test provider only, as
                // nothing else is configured) and one registry.
                #expect(counts.all == ["PaymentProviders": 1, "PaymentProvider.test": 1, "JobRegistry": 1])

                let seller = try await store.verifiedSeller(browser, "seller@example.com")
                let product = try #require(try await seller.createProduct("Zine", price: 700, publish: true)["id"] as? String)
                let buyer = Browser(client: browser.client)
                try await buyer.register("buyer@example.com")
                try await buyer.addToCart(product)
                let created = try await buyer.checkout(#"{"provider":"test"}"#)
                #expect(created.status == .created, "\(created.text)")
                let orderID = try #require(created.order["id"] as? String)
                let redirect = try #require(created.object["redirect_url"] as? String)
                let hostedPage = String(redirect[try #require(redirect.range(of: "/test-checkout/")).lowerBound...])
                let paid = try await buyer.submitForm("\(hostedPage)/pay", fields: [:], csrfFrom: hostedPage)
                #expect(paid.status == .seeOther)

                // The webhook, the fulfilment and the receipt all run as jobs of this runtime's
                // runner: the one `souk serve` runs beside the web layer and `souk jobs run` runs once.
                for _ in 0..<10 {
                    let pass = try await runtime.jobRunner(concurrency: 10).runOnce(limit: 10)
                    if pass.claimed == 0 { break }
                    #expect(pass.retrying == 0 && pass.dead == 0)
                }
                let order = try await buyer.get("/api/v1/orders/\(orderID)")
                #expect(order.object["status"] as? String == "completed", "\(order.text)")
                let library = try await buyer.get("/api/v1/library")
                #expect(library.text.contains(product))

                // `souk order refund` refunds through the runtime's refund service.
                _ = try await runtime.refunds.refund(orderID: orderID, amount: nil, reason: "test", by: .operatorCLI)
                _ = try await runtime.jobRunner().runOnce(limit: 10)
                #expect(try await store.database.order(id: orderID)?.status == .refunded)

                #expect(counts.all == ["PaymentProviders": 1, "PaymentProvider.test": 1, "JobRegistry": 1])
            }
        }
    }
}
