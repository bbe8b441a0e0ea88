import Foundation
import Hummingbird
import HummingbirdTesting
import SoukCore
@testable import SoukDatabase
import Testing

private func webhookStore() throws -> TestStore { try TestStore { $0.store.marketplace = true } }

private let endpointBody = #"{"url":"https://hooks.example.com/souk","events":["order.paid"],"description":"Zapier"}"#

extension Browser {
    /// Registers an endpoint (201 expected) and returns its JSON.
    func createEndpoint(_ body: String = endpointBody) async throws -> [String: Any] {
        let response = try await json(.post, "/api/v1/webhook-endpoints", body)
        #expect(response.status == .created, "create endpoint: \(response.text)")
        return response.object
    }
}

/// The `seller_webhook` jobs' messages, oldest first.
private func queuedMessages(_ database: AppDatabase) async throws -> [(WebhookMessage, WebhookEndpoint)] {
    let jobs = try await JobQueue(database: database).jobs().filter { $0.kind == WebhookJobKind.deliver }
        .sorted { $0.createdAt < $1.createdAt }
    var result: [(WebhookMessage, WebhookEndpoint)] = []
    for job in jobs {
        let id = try job.decodePayload(WebhookJobPayload.self).messageID
        if let found = try await database.webhookMessage(id: id) { result.append(found) }
    }
    return result
}

private func payload(_ message: WebhookMessage) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(message.payload.utf8)) as? [String: Any]) ?? [:]
}

@Suite("Webhook endpoints API and dashboard")
struct WebhookEndpointsAPITests {
    @Test("Only verified sellers register endpoints; others' endpoints are not found; visitors sign in")
    func access() async throws {
        let store = try webhookStore()
        try await store.run { browser in
            let alice = try await store.verifiedSeller(browser, "alice@example.com")
            let created = try await alice.createEndpoint()
            let id = try #require(created["id"] as? String)

            let visitor = Browser(client: browser.client)
            #expect(try await visitor.json(.post, "/api/v1/webhook-endpoints", endpointBody).status == .unauthorized)
            #expect(try await visitor.get("/api/v1/webhook-endpoints").status == .unauthorized)
            #expect(try await visitor.get("/api/v1/webhook-endpoints/\(id)/deliveries").status == .unauthorized)

            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            let refused = try await buyer.json(.post, "/api/v1/webhook-endpoints", endpointBody)
            #expect(refused.status == .forbidden && refused.isProblem)
            #expect(try await buyer.get("/api/v1/webhook-endpoints").status == .forbidden)
            #expect(try await buyer.get("/api/v1/webhook-endpoints/\(id)").status == .notFound)

            let pending = Browser(client: browser.client)
            try await pending.register("pending@example.com", role: "seller")
            #expect(try await pending.json(.post, "/api/v1/webhook-endpoints", endpointBody).status == .forbidden)

            let bob = try await store.verifiedSeller(browser, "bob@example.com")
            for (method, path) in [
                (HTTPRequest.Method.get, "/api/v1/webhook-endpoints/\(id)"), (.get, "/api/v1/webhook-endpoints/\(id)/deliveries"),
                (.post, "/api/v1/webhook-endpoints/\(id)/test"), (.post, "/api/v1/webhook-endpoints/\(id)/rotate-secret"),
                (.patch, "/api/v1/webhook-endpoints/\(id)"), (.delete, "/api/v1/webhook-endpoints/\(id)"),
                (.post, "/api/v1/webhook-endpoints/\(id)/messages/msg_x/resend"),
            ] {
                let response = try await bob.json(method, path, #"{"enabled":false}"#)
                #expect(response.status == .notFound && response.isProblem, "\(method) \(path): \(response.status)")
            }
            let bobs = try await bob.get("/api/v1/webhook-endpoints")
            #expect((bobs.object["data"] as? [Any])?.isEmpty == true)
            #expect(try await bob.get("/dashboard/webhooks/\(id)", headers: [.accept: "text/html"]).status == .notFound)
            #expect(try await store.database.webhookEndpoint(id: id)?.enabled == true, "Bob's PATCH changed nothing")

            let admin = try await store.admin(browser)
            #expect(try await admin.get("/api/v1/webhook-endpoints/\(id)").status == .ok)
            #expect(try await admin.get("/api/v1/webhook-endpoints/\(id)/deliveries").status == .ok)
        }
    }

    @Test("Bad URLs and events get 422 problem+json naming the field and the reason")
    func validation() async throws {
        let store = try webhookStore()
        try await store.run { browser in
            let alice = try await store.verifiedSeller(browser, "alice@example.com")
            let cases: [(String, String, String)] = [
                (#"{"url":"http://127.0.0.1:8080/hook","events":["order.paid"]}"#, "url", "loopback"),
                (#"{"url":"http://[::1]/hook","events":["order.paid"]}"#, "url", "loopback"),
                (#"{"url":"http://169.254.169.254/","events":["order.paid"]}"#, "url", "link-local"),
                (#"{"url":"http://192.168.1.10/","events":["order.paid"]}"#, "url", "private"),
                (#"{"url":"http://localhost/","events":["order.paid"]}"#, "url", "localhost"),
                (#"{"url":"ftp://example.com/","events":["order.paid"]}"#, "url", "https://"),
                (#"{"events":["order.paid"]}"#, "url", "required"),
                (#"{"url":"https://example.com/","events":[]}"#, "events", "at least one"),
                (#"{"url":"https://example.com/","events":["order.shipped"]}"#, "events", "order.shipped"),
                (#"{"url":"https://example.com/","events":["webhook.test"]}"#, "events", "webhook.test"),
            ]
            for (body, field, reason) in cases {
                let response = try await alice.json(.post, "/api/v1/webhook-endpoints", body)
                #expect(response.status == .unprocessableContent && response.isProblem, "\(body): \(response.text)")
                #expect(response.object["field"] as? String == field, "\(body)")
                #expect((response.object["detail"] as? String)?.contains(reason) == true, "\(body): \(response.text)")
            }
            let created = try await alice.createEndpoint()
            let id = try #require(created["id"] as? String)
            let patch = try await alice.json(.patch, "/api/v1/webhook-endpoints/\(id)", #"{"url":"http://10.0.0.1/"}"#)
            #expect(patch.status == .unprocessableContent && patch.object["field"] as? String == "url")
            let badLimit = try await alice.get("/api/v1/webhook-endpoints/\(id)/deliveries?limit=0")
            #expect(badLimit.status == .unprocessableContent)
            let aliceID = try #require(try await store.database.user(email: "alice@example.com")?.id)
            #expect(try await store.database.webhookEndpoints(sellerID: aliceID).count == 1, "no refused endpoint was stored")
        }
    }

    @Test("The secret is shown at creation and rotation only; the old one keeps signing for a day")
    func secretShownOnce() async throws {
        let store = try webhookStore()
        try await store.run { browser in
            let alice = try await store.verifiedSeller(browser, "alice@example.com")
            let created = try await alice.createEndpoint()
            let id = try #require(created["id"] as? String)
            let secret = try #require(created["secret"] as? String)
            #expect(secret.hasPrefix("whsec_"))
            #expect(created["events"] as? [String] == ["order.paid"] && created["enabled"] as? Bool == true)

            let shown = try await alice.get("/api/v1/webhook-endpoints/\(id)")
            #expect(shown.status == .ok && shown.object["secret"] == nil && !shown.text.contains(secret))
            let list = try await alice.get("/api/v1/webhook-endpoints")
            #expect(!list.text.contains("secret") && list.text.contains(id))

            let rotated = try await alice.json(.post, "/api/v1/webhook-endpoints/\(id)/rotate-secret", "{}")
            #expect(rotated.status == .ok)
            let newSecret = try #require(rotated.object["secret"] as? String)
            #expect(newSecret.hasPrefix("whsec_") && newSecret != secret)
            let stored = try #require(try await store.database.webhookEndpoint(id: id))
            #expect(WebhookSigningKeys.secrets(for: stored, at: Date()) == [newSecret, secret])
            #expect(!(try await alice.get("/api/v1/webhook-endpoints/\(id)")).text.contains(newSecret))

            let disabled = try await alice.json(.patch, "/api/v1/webhook-endpoints/\(id)", #"{"enabled":false,"events":["order.paid","review.created"]}"#)
            #expect(disabled.object["enabled"] as? Bool == false)
            #expect(disabled.object["events"] as? [String] == ["order.paid", "review.created"])
            #expect(try await alice.json(.post, "/api/v1/webhook-endpoints/\(id)/test", "{}").status == .conflict)
            #expect(try await alice.request(.delete, "/api/v1/webhook-endpoints/\(id)").status == .noContent)
            #expect(try await alice.get("/api/v1/webhook-endpoints/\(id)").status == .notFound)
        }
    }

    @Test("A paid order tells each seller's endpoint of their own lines; a test event and resend keep one id")
    func emissionAndResend() async throws {
        let store = try webhookStore()
        try await store.run { browser in
            let (alice, guide, _) = try await store.sellerWithProduct(browser, email: "alice@example.com", title: "Guide", files: [])
            let (bob, course, _) = try await store.sellerWithProduct(browser, email: "bob@example.com", title: "Course", files: [])
            let aliceEndpoint = try #require(try await alice.createEndpoint()["id"] as? String)
            let bobEndpoint = try #require(
                try await bob.createEndpoint(#"{"url":"https://bob.example.com/","events":["order.refunded"]}"#)["id"] as? String)
            let (_, orderID) = try await store.paidBuyer(browser, buying: [guide, course])

            let messages = try await queuedMessages(store.database)
            #expect(messages.count == 1, "Bob did not subscribe to order.paid")
            let (message, endpoint) = try #require(messages.first)
            #expect(endpoint.id == aliceEndpoint && message.type == "order.paid" && message.id.hasPrefix("msg_"))
            let body = payload(message)
            #expect(body["type"] as? String == "order.paid" && body["timestamp"] is String)
            let data = try #require(body["data"] as? [String: Any])
            #expect(data["id"] as? String == orderID && data["status"] as? String == "paid")
            let lines = try #require(data["lines"] as? [[String: Any]])
            #expect(lines.map { $0["product_id"] as? String } == [guide], "only Alice's line")
            #expect(data["seller_total"] as? Int == 900 && data["total"] as? Int == 1800)
            _ = bobEndpoint

            // Resend of a message still queued runs it now instead of adding a job.
            let resend = try await alice.json(
                .post, "/api/v1/webhook-endpoints/\(aliceEndpoint)/messages/\(message.id)/resend", "{}")
            #expect(resend.status == .accepted && resend.object["message_id"] as? String == message.id)
            #expect(try await queuedMessages(store.database).count == 1)
            let unknown = try await alice.json(.post, "/api/v1/webhook-endpoints/\(aliceEndpoint)/messages/msg_nope/resend", "{}")
            #expect(unknown.status == .notFound)

            let test = try await alice.json(.post, "/api/v1/webhook-endpoints/\(aliceEndpoint)/test", "{}")
            #expect(test.status == .accepted && test.object["type"] as? String == "webhook.test")
            let all = try await queuedMessages(store.database)
            #expect(all.map(\.0.type) == ["order.paid", "webhook.test"])
        }
    }

    @Test("Every fact emits its event in its own transaction: license keys, a review, a product change, a refund")
    func everyEvent() async throws {
        let store = try webhookStore()
        try await store.run { browser in
            let (alice, productID, _) = try await store.sellerWithProduct(
                browser, email: "alice@example.com", title: "Pixel Editor", kind: "license", extra: ["activation_limit": 2],
                files: [])
            let all = #"{"url":"https://hooks.example.com/all","events":["order.paid","order.refunded","order.disputed","license.activated","license.deactivated","review.created","product.updated"]}"#
            let endpointID = try #require(try await alice.createEndpoint(all)["id"] as? String)
            let (buyer, orderID) = try await store.paidBuyer(browser, buying: [productID])
            _ = try await store.database.fulfil(orderID: orderID, followUps: [])
            let key = try #require(try await store.database.licenseKeys(productID: productID).first?.key)

            let activated = try await Browser(client: browser.client).json(
                .post, "/api/v1/licenses/activate", #"{"license_key":"\#(key)","instance_name":"laptop"}"#)
            #expect(activated.status == .ok, "\(activated.text)")
            let instanceID = try #require((activated.object["instance"] as? [String: Any])?["id"] as? String)
            let refused = try await Browser(client: browser.client).json(
                .post, "/api/v1/licenses/deactivate", #"{"license_key":"\#(key)","instance_id":"act_nope"}"#)
            #expect(refused.object["deactivated"] as? Bool != true)
            let freed = try await Browser(client: browser.client).json(
                .post, "/api/v1/licenses/deactivate", #"{"license_key":"\#(key)","instance_id":"\#(instanceID)"}"#)
            #expect(freed.status == .ok, "\(freed.text)")
            #expect(try await buyer.review(productID, #"{"rating":5,"body":"Sharp tool."}"#).status == .created)
            #expect(try await buyer.review(productID, #"{"rating":4,"body":"Still sharp."}"#).status == .ok)
            #expect(try await alice.json(.patch, "/api/v1/products/\(productID)", #"{"title":"Pixel Editor 2"}"#).status == .ok)
            let refund = try await alice.json(.post, "/api/v1/orders/\(orderID)/refund", #"{"amount":100,"reason":"late"}"#)
            #expect(refund.status == .ok, "\(refund.text)")

            let messages = try await queuedMessages(store.database)
            #expect(messages.allSatisfy { $0.1.id == endpointID })
            // A second review replaces the first (no event); a refused deactivation changes nothing.
            #expect(messages.map(\.0.type) == [
                "order.paid", "license.activated", "license.deactivated", "review.created", "product.updated",
                "order.refunded",
            ], "each fact once, in order")
            let byType = Dictionary(messages.map { ($0.0.type, payload($0.0)["data"] as? [String: Any] ?? [:]) }) { $1 }
            #expect(byType["license.activated"]?["key"] as? String == key)
            #expect((byType["license.activated"]?["instance"] as? [String: Any])?["name"] as? String == "laptop")
            #expect(byType["license.deactivated"]?["activations_count"] as? Int == 0)
            #expect(byType["review.created"]?["rating"] as? Int == 5)
            #expect(byType["product.updated"]?["title"] as? String == "Pixel Editor 2")
            let refunded = try #require(byType["order.refunded"])
            #expect((refunded["refund"] as? [String: Any])?["amount"] as? Int == 100)
            #expect(refunded["status"] as? String == "partially_refunded")
        }
    }

    @Test("Dashboard: list with a create form, the secret once on the result page, and the delivery log")
    func dashboard() async throws {
        let store = try webhookStore()
        try await store.run { browser in
            let alice = try await store.verifiedSeller(browser, "alice@example.com")
            let page = try await alice.get("/dashboard/webhooks", headers: [.accept: "text/html"])
            #expect(page.status == .ok && page.text.contains(#"name="events" value="order.paid""#))
            #expect(try await alice.get("/dashboard", headers: [.accept: "text/html"]).text.contains("/dashboard/webhooks"))

            let refused = try await alice.submitForm(
                "/dashboard/webhooks", fields: ["url": "http://127.0.0.1/x", "events": "order.paid"], csrfFrom: "/dashboard/webhooks")
            #expect(refused.status == .unprocessableContent && refused.text.contains("loopback"))

            let created = try await alice.submitForm(
                "/dashboard/webhooks", fields: ["url": "https://hooks.example.com/in", "events": "review.created"],
                csrfFrom: "/dashboard/webhooks")
            #expect(created.status == .created)
            let secret = try #require(created.text.firstMatch(of: /id="webhook-secret">(whsec_[^<]+)</)?.1)
            let aliceID = try #require(try await store.database.user(email: "alice@example.com")?.id)
            let endpoint = try #require(try await store.database.webhookEndpoints(sellerID: aliceID).first)
            #expect(endpoint.events == [.reviewCreated] && endpoint.secret == String(secret))
            let again = try await alice.get("/dashboard/webhooks", headers: [.accept: "text/html"])
            #expect(again.text.contains("https://hooks.example.com/in") && !again.text.contains(String(secret)))

            // Without the CSRF token, nothing happens.
            let forged = try await alice.request(
                .post, "/dashboard/webhooks/\(endpoint.id)/delete",
                headers: [.contentType: "application/x-www-form-urlencoded", .accept: "text/html"], body: "")
            #expect(forged.status == .forbidden)

            let test = try await alice.submitForm(
                "/dashboard/webhooks/\(endpoint.id)/test", fields: [:], csrfFrom: "/dashboard/webhooks")
            #expect(test.status == .seeOther)
            let message = try #require(try await queuedMessages(store.database).last?.0)
            _ = try await store.database.recordWebhookAttempt(
                messageID: message.id,
                result: WebhookAttemptResult(statusCode: 500, durationMilliseconds: 42, responseExcerpt: "upstream <b>down</b>", error: nil))
            let log = try await alice.get("/dashboard/webhooks/\(endpoint.id)", headers: [.accept: "text/html"])
            #expect(log.status == .ok)
            #expect(log.text.contains(message.id) && log.text.contains("500") && log.text.contains("42 ms"))
            #expect(log.text.contains("upstream &lt;b&gt;down&lt;/b&gt;"), "the excerpt is escaped")
            #expect(log.text.contains("/messages/\(message.id)/resend"))

            let disabled = try await alice.submitForm(
                "/dashboard/webhooks/\(endpoint.id)/disable", fields: [:], csrfFrom: "/dashboard/webhooks")
            #expect(disabled.status == .seeOther)
            #expect(try await store.database.webhookEndpoint(id: endpoint.id)?.enabled == false)

            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            #expect(try await buyer.get("/dashboard/webhooks", headers: [.accept: "text/html"]).status == .forbidden)
        }
    }
}
