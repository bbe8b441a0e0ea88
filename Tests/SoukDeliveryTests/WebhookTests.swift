import Foundation
import SoukCore
@testable import SoukDatabase
import Testing

@testable import SoukDelivery

/// Records every request and answers from a script (the last answer repeats).
final class ScriptedWebhookTransport: WebhookTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [WebhookAttemptResult]
    private(set) var requests: [WebhookRequest] = []

    init(_ answers: [WebhookAttemptResult]) { self.answers = answers }

    func send(_ request: WebhookRequest) async -> WebhookAttemptResult {
        lock.withLock {
            requests.append(request)
            return answers.count > 1 ? answers.removeFirst() : answers[0]
        }
    }

    var sent: [WebhookRequest] { lock.withLock { requests } }
}

extension WebhookAttemptResult {
    static func status(_ code: Int) -> WebhookAttemptResult {
        WebhookAttemptResult(statusCode: code, durationMilliseconds: 3, responseExcerpt: "answer \(code)", error: nil)
    }
}

private func webhookDatabase(clock: any WallClock) throws -> AppDatabase {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("souk-webhooks-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return try AppDatabase(path: directory.appendingPathComponent("souk.db").path, clock: clock)
}

private func header(_ request: WebhookRequest, _ name: String) -> String? {
    request.headers.first { $0.0 == name }?.1
}

@Suite("Seller webhooks: signatures, delivery attempts, retries and the 3-day rule")
struct WebhookTests {
    @Test("The signature matches the Standard Webhooks spec's example")
    func standardVector() {
        let signature = WebhookSigner.signature(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", messageID: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330, body: #"{"test": 2432232314}"#)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        // Any change to what is signed changes the signature.
        #expect(
            WebhookSigner.signature(
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", messageID: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                timestamp: 1_614_265_331, body: #"{"test": 2432232314}"#) != signature)
        #expect(WebhookSigner.signature(secret: "not-a-secret", messageID: "m", timestamp: 1, body: "{}") == nil)
    }

    @Test("Two secrets give two space-separated signatures, newest first")
    func twoSignatures() {
        let headers = WebhookSigner.headers(
            messageID: "msg_1", timestamp: 1_614_265_330, body: "{}",
            secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_bmV3c2VjcmV0"])
        let signature = headers.first { $0.0 == "webhook-signature" }?.1 ?? ""
        let parts = signature.split(separator: " ")
        #expect(parts.count == 2 && parts.allSatisfy { $0.hasPrefix("v1,") })
        #expect(String(parts[0]) == WebhookSigner.signature(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", messageID: "msg_1", timestamp: 1_614_265_330, body: "{}"))
        #expect(headers.first { $0.0 == "webhook-id" }?.1 == "msg_1")
        #expect(headers.first { $0.0 == "webhook-timestamp" }?.1 == "1614265330")
    }

    @Test("The libcurl sender refuses loopback and private targets before connecting, unless allowed")
    func senderRefusesPrivateTargets() async {
        let sender = CurlWebhookTransport(allowPrivate: false, timeoutSeconds: 2)
        for url in ["http://127.0.0.1:9/", "http://[::1]:9/", "http://localhost:9/", "http://10.0.0.1/"] {
            let result = await sender.send(WebhookRequest(url: url, headers: [], body: "{}"))
            #expect(result.statusCode == nil && !result.succeeded, "\(url)")
            #expect(result.error?.contains("public addresses") == true, "\(url): \(result.error ?? "")")
        }
        // Allowed: it really tries (port 9, discard, is closed here), and fails to connect instead.
        let allowed = await CurlWebhookTransport(allowPrivate: true, timeoutSeconds: 2)
            .send(WebhookRequest(url: "http://127.0.0.1:9/", headers: [], body: "{}"))
        #expect(allowed.statusCode == nil && allowed.error != nil && allowed.error?.contains("public addresses") == false)
    }

    @Test("localhost resolves to loopback, which the delivery-time check refuses")
    func resolvedLoopbackIsRefused() throws {
        let resolved = try CurlWebhookTransport.resolve("localhost")
        #expect(!resolved.isEmpty && resolved.allSatisfy { WebhookAddressPolicy.refusal($0) != nil }, "\(resolved)")
        #expect(throws: SoukError.self) {
            try WebhookURLRules.pinnedAddress(resolved: resolved, host: "localhost", allowPrivate: false)
        }
    }

    @Test("The connection goes to the address checked, whatever the name; redirects are not followed; 1 KiB of the answer kept")
    func pinnedConnection() async throws {
        let receiver = try FakeHTTPReceiver(
            status: 302, headers: ["Location: http://127.0.0.1:9/elsewhere"], body: String(repeating: "x", count: 5000))
        defer { receiver.stop() }
        let loopback = try #require(IPAddress("127.0.0.1"))
        // A name nobody can resolve, answered by the test's resolver: if libcurl resolved it
        // itself, the request could not arrive.
        let url = "http://hooks.invalid:\(receiver.port)/in"
        let pinned = CurlWebhookTransport(allowPrivate: true, timeoutSeconds: 5) { _ in [loopback] }
        let result = await pinned.send(
            WebhookRequest(url: url, headers: [("webhook-id", "msg_pin")], body: #"{"type":"webhook.test"}"#))
        #expect(result.statusCode == 302 && !result.succeeded && result.error == nil, "\(result)")
        #expect(result.responseExcerpt.utf8.count == 1024)
        let request = try #require(receiver.requests.first)
        #expect(request.hasPrefix("POST /in HTTP/1.1\r\n"))
        #expect(request.lowercased().contains("host: hooks.invalid:\(receiver.port)"))
        #expect(request.lowercased().contains("webhook-id: msg_pin") && request.hasSuffix(#"{"type":"webhook.test"}"#))
        #expect(receiver.requests.count == 1, "the redirect was not followed")

        // The same name resolving to loopback, with private addresses not allowed (DNS
        // rebinding after the URL was accepted): refused, nothing sent.
        let strict = CurlWebhookTransport(allowPrivate: false, timeoutSeconds: 5) { _ in [loopback] }
        let refused = await strict.send(WebhookRequest(url: url, headers: [], body: "{}"))
        #expect(refused.statusCode == nil && refused.error?.contains("resolves to 127.0.0.1") == true, "\(refused)")
        #expect(receiver.requests.count == 1)
    }

    /// A verified seller with one endpoint, in a fresh database on `clock`.
    func sellerWithEndpoint(clock: any WallClock, events: [String] = ["product.updated"]) async throws
        -> (AppDatabase, WebhookEndpointService, User, WebhookEndpointWithSecret)
    {
        let database = try webhookDatabase(clock: clock)
        _ = try await database.insertUser(email: "seller@example.com", name: "Seller", passwordHash: "x", role: .seller)
        let seller = try await database.setSellerStatus(email: "seller@example.com", .verified)
        let service = WebhookEndpointService(database: database, allowPrivate: false)
        let created = try await service.create(
            url: "https://hooks.example.com/souk", events: events, description: "test", by: seller)
        return (database, service, seller, created)
    }

    @Test("A failing delivery is logged and retried with the same webhook-id; a success clears the failure")
    func retriesKeepTheID() async throws {
        let clock = RunnerTestClock()
        let (database, service, seller, created) = try await sellerWithEndpoint(clock: clock)
        let transport = ScriptedWebhookTransport([.status(500), .status(500), .status(204)])
        let jobs = WebhookJobs(database: database, transport: transport)
        let message = try await service.sendTest(created.endpoint.id, by: seller)

        for _ in 0..<2 {
            await #expect(throws: WebhookJobs.DeliveryFailed.self) { try await jobs.deliver(message.id) }
            clock.advance(60)
        }
        #expect(try await database.webhookEndpoint(id: created.endpoint.id)?.failingSince != nil)
        try await jobs.deliver(message.id)

        let sent = transport.sent
        #expect(sent.count == 3)
        #expect(Set(sent.compactMap { header($0, "webhook-id") }) == [message.id])
        #expect(Set(sent.map(\.body)).count == 1, "the same body every time")
        #expect(Set(sent.compactMap { header($0, "webhook-timestamp") }).count == 3, "a fresh timestamp per attempt")
        for request in sent {
            let timestamp = Int(header(request, "webhook-timestamp") ?? "") ?? 0
            #expect(header(request, "webhook-signature") == WebhookSigner.signature(
                secret: created.secret, messageID: message.id, timestamp: timestamp, body: request.body))
        }
        let log = try await service.deliveries(created.endpoint.id, for: seller, after: nil, limit: 10)
        #expect(log.map(\.attempt) == [3, 2, 1], "newest first")
        #expect(log.map(\.statusCode) == [204, 500, 500])
        #expect(log.map(\.succeeded) == [true, false, false])
        #expect(log.allSatisfy { $0.messageID == message.id && $0.eventType == "webhook.test" })
        #expect(try await database.webhookEndpoint(id: created.endpoint.id)?.failingSince == nil)

        // Paging: two, then the last one.
        let first = try await service.deliveries(created.endpoint.id, for: seller, after: nil, limit: 2)
        let rest = try await service.deliveries(created.endpoint.id, for: seller, after: first.last?.id, limit: 2)
        #expect(first.map(\.attempt) == [3, 2] && rest.map(\.attempt) == [1])
    }

    @Test("An endpoint failing for 3 days is disabled, its seller notified once, and nothing more is sent")
    func disabledAfterThreeDays() async throws {
        let clock = RunnerTestClock()
        let (database, service, seller, created) = try await sellerWithEndpoint(clock: clock)
        let transport = ScriptedWebhookTransport([.status(503)])
        let jobs = WebhookJobs(database: database, transport: transport)
        let message = try await service.sendTest(created.endpoint.id, by: seller)

        // Failing for just under 3 days: still enabled.
        await #expect(throws: WebhookJobs.DeliveryFailed.self) { try await jobs.deliver(message.id) }
        clock.advance(3 * 86400 - 60)
        await #expect(throws: WebhookJobs.DeliveryFailed.self) { try await jobs.deliver(message.id) }
        #expect(try await database.webhookEndpoint(id: created.endpoint.id)?.enabled == true)
        let failing = NotificationType.webhookEndpointFailing.rawValue
        #expect(try await database.notifications(userID: seller.id).filter { $0.type == failing }.isEmpty)

        // The first attempt past 3 days disables it (the job ends: no retry of a disabled endpoint).
        clock.advance(120)
        try await jobs.deliver(message.id)
        let endpoint = try #require(try await database.webhookEndpoint(id: created.endpoint.id))
        #expect(!endpoint.enabled && endpoint.disabledReason != nil)
        let notices = try await database.notifications(userID: seller.id).filter { $0.type == failing }
        #expect(notices.count == 1)
        #expect(notices.first?.url == "/dashboard/webhooks/\(created.endpoint.id)")

        try await jobs.deliver(message.id)
        #expect(transport.sent.count == 3, "a disabled endpoint is sent nothing")
        await #expect(throws: SoukError.self) { try await service.sendTest(created.endpoint.id, by: seller) }

        // Enabled again by the seller: a fresh start.
        let enabled = try await service.update(created.endpoint.id, WebhookEndpointPatch(enabled: true), by: seller)
        #expect(enabled.enabled && enabled.failingSince == nil && enabled.disabledReason == nil)
    }

    @Test("A product change queues one message per subscribed endpoint, in the change's transaction")
    func emissionFollowsTheFact() async throws {
        let clock = RunnerTestClock()
        let (database, service, seller, created) = try await sellerWithEndpoint(clock: clock)
        _ = try await service.create(url: "https://other.example.com/", events: ["order.paid"], description: nil, by: seller)
        let product = try await database.insertProduct(
            Product(
                id: database.ids.make(.product), sellerID: seller.id, sellerName: seller.name, title: "Guide", slug: "guide",
                summary: "", description: "", descriptionHTML: "", category: "Books", tags: [], kind: .download,
                price: Price(amount: 500, currency: "EUR"), stock: nil, status: .draft, attributesJSON: "{}",
                downloadLimit: nil, activationLimit: nil, ratingAverage: 0, ratingCount: 0, salesCount: 0,
                createdAt: clock.now(), updatedAt: clock.now(), publishedAt: nil))
        let queue = JobQueue(database: database)
        #expect(try await queue.jobs().filter { $0.kind == WebhookJobKind.deliver }.isEmpty, "a new product is no update")

        // A change that throws is rolled back: no message, no job.
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            _ = try await database.updateProduct(id: product.id) { product in
                product.title = "Changed"
                throw Abort()
            }
        }
        #expect(try await queue.jobs().filter { $0.kind == WebhookJobKind.deliver }.isEmpty)

        _ = try await database.updateProduct(id: product.id) { $0.title = "Field Guide" }
        let jobs = try await queue.jobs().filter { $0.kind == WebhookJobKind.deliver }
        #expect(jobs.count == 1, "only the endpoint subscribed to product.updated")
        #expect(jobs.first?.maxAttempts == WebhookRetry.maxAttempts)
        let messageID = try #require(try jobs.first?.decodePayload(WebhookJobPayload.self).messageID)
        let (message, endpoint) = try #require(try await database.webhookMessage(id: messageID))
        #expect(endpoint.id == created.endpoint.id && message.type == "product.updated")
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(message.payload.utf8)) as? [String: Any])
        #expect(payload["type"] as? String == "product.updated")
        #expect((payload["data"] as? [String: Any])?["title"] as? String == "Field Guide")
        #expect(jobs.first?.dedupeKey == "webhook:\(messageID)")
    }
}
