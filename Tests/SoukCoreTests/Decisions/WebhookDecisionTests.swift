import Foundation
import SoukCore
import Testing

@Suite("Webhooks: the address policy, URL rules, fan-out, secrets, retries and the 3-day rule")
struct WebhookDecisionTests {
    // MARK: Address policy

    static let addressCases: [(String, Bool)] = [
            ("127.0.0.1", false), ("127.255.255.254", false), ("10.1.2.3", false), ("172.16.0.1", false),
            ("172.31.255.255", false), ("172.32.0.1", true), ("172.15.255.255", true), ("192.168.1.1", false),
            ("192.169.0.1", true), ("169.254.169.254", false), ("0.0.0.0", false), ("0.1.2.3", false),
            ("100.64.0.1", false), ("100.127.255.255", false), ("100.128.0.1", true), ("224.0.0.1", false),
            ("239.255.255.250", false), ("255.255.255.255", false), ("8.8.8.8", true), ("93.184.216.34", true),
            ("::1", false), ("::", false), ("fc00::1", false), ("fd12:3456::1", false), ("fe80::1", false),
            ("febf::1", false), ("ff02::1", false), ("::ffff:127.0.0.1", false), ("::ffff:7f00:1", false),
            ("::ffff:10.0.0.1", false), ("::ffff:8.8.8.8", true), ("::127.0.0.1", false), ("64:ff9b::10.0.0.1", false),
            ("2001:4860:4860::8888", true), ("2606:4700::1111", true),
        ]

    @Test("Internal, special and mapped addresses are refused; public ones pass", arguments: addressCases)
    func addressPolicy(text: String, allowed: Bool) throws {
        let address = try #require(IPAddress(text), "\(text) parses")
        #expect((WebhookAddressPolicy.refusal(address) == nil) == allowed, "\(text)")
    }

    @Test(
        "IP parsing refuses ambiguous or malformed text",
        arguments: ["127.1", "0x7f.0.0.1", "010.0.0.1", "256.0.0.1", "1.2.3", "1.2.3.4.5", "2130706433", ":::1", "1::2::3",
                    "fe80::1%eth0", "12345::1", "", "example.com"])
    func ipParsingRefuses(text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    @Test("IPv6 parsing expands :: and embedded IPv4")
    func ipv6Parsing() throws {
        #expect(IPAddress("::1")?.bytes == Array(repeating: 0, count: 15) + [1])
        #expect(IPAddress("::ffff:1.2.3.4")?.bytes == Array(repeating: 0, count: 10) + [0xff, 0xff, 1, 2, 3, 4])
        #expect(IPAddress("2001:db8::8:800:200c:417a")?.description == "2001:db8:0:0:8:800:200c:417a")
    }

    // MARK: URL rules

    static let urlCases: [(String, Bool, Bool)] = [
            ("https://hooks.example.com/souk", true, true),
            ("http://93.184.216.34:8080/in", true, true),
            ("http://127.0.0.1:9000/hook", false, true),
            ("http://[::1]/hook", false, true),
            ("http://[::ffff:127.0.0.1]/hook", false, true),
            ("http://localhost:8000/", false, true),
            ("http://api.localhost/", false, true),
            ("http://169.254.169.254/latest/meta-data", false, true),
            ("http://2130706433/", false, true),
            ("http://127.1/", false, true),
            ("ftp://example.com/", false, false),
            ("file:///etc/passwd", false, false),
            ("https://user:pass@example.com/", false, false),
            ("https://example.com/a b", false, false),
            ("https://example.com\\@127.0.0.1/", false, false),
            ("https://example.com/#frag", false, false),
            ("", false, false),
            ("not a url", false, false),
        ]

    @Test("Webhook URLs: http(s) to a public place only, unless private addresses are allowed", arguments: urlCases)
    func urlRules(url: String, allowed: Bool, allowedWithPrivate: Bool) {
        let strict = (try? WebhookURLRules.target(url, allowPrivate: false)) != nil
        let lenient = (try? WebhookURLRules.target(url, allowPrivate: true)) != nil
        #expect(strict == allowed, "\(url)")
        #expect(lenient == allowedWithPrivate, "\(url) (private allowed)")
    }

    @Test("A refused URL names the reason, in field url")
    func urlRefusalNamesTheReason() {
        do {
            _ = try WebhookURLRules.target("http://10.0.0.5/hook", allowPrivate: false)
            Issue.record("accepted a private address")
        } catch let error as SoukError {
            #expect(error.code == .validationFailed && error.field == "url")
            #expect(error.detail.contains("private address (10.0.0.0/8)"), "\(error.detail)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("At delivery, every resolved address must pass, and the first one is pinned")
    func pinnedAddress() throws {
        let public1 = try #require(IPAddress("93.184.216.34"))
        let public2 = try #require(IPAddress("2606:4700::1111"))
        let loopback = try #require(IPAddress("127.0.0.1"))
        #expect(try WebhookURLRules.pinnedAddress(resolved: [public1, public2], host: "a.example", allowPrivate: false) == public1)
        #expect(throws: SoukError.self) {
            try WebhookURLRules.pinnedAddress(resolved: [public1, loopback], host: "rebind.example", allowPrivate: false)
        }
        #expect(throws: SoukError.self) { try WebhookURLRules.pinnedAddress(resolved: [], host: "x.example", allowPrivate: true) }
        #expect(try WebhookURLRules.pinnedAddress(resolved: [loopback], host: "localhost", allowPrivate: true) == loopback)
    }

    // MARK: Endpoints

    static func endpoint(
        id: String = "wh_1", seller: String = "usr_a", events: [WebhookEventType] = [.orderPaid], enabled: Bool = true
    ) -> WebhookEndpoint {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        return WebhookEndpoint(
            id: id, sellerID: seller, url: "https://example.com/\(id)", description: "", events: events, enabled: enabled,
            disabledReason: nil, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", previousSecret: nil,
            previousSecretExpiresAt: nil, failingSince: nil, createdAt: now, updatedAt: now)
    }

    @Test("An event goes to the seller's enabled endpoints subscribed to it, no others")
    func fanout() {
        let endpoints = [
            Self.endpoint(id: "wh_paid"), Self.endpoint(id: "wh_all", events: WebhookEventType.subscribable),
            Self.endpoint(id: "wh_off", enabled: false), Self.endpoint(id: "wh_reviews", events: [.reviewCreated]),
            Self.endpoint(id: "wh_other", seller: "usr_b"),
        ]
        let paid = WebhookFanout.recipients(of: .orderPaid, sellerID: "usr_a", among: endpoints).map(\.id)
        #expect(paid == ["wh_paid", "wh_all"])
        #expect(WebhookFanout.recipients(of: .reviewCreated, sellerID: "usr_a", among: endpoints).map(\.id) == ["wh_all", "wh_reviews"])
        #expect(WebhookFanout.recipients(of: .orderPaid, sellerID: "usr_b", among: endpoints).map(\.id) == ["wh_other"])
        #expect(WebhookFanout.recipients(of: .test, sellerID: "usr_a", among: endpoints).isEmpty)
    }

    @Test("Events: at least one, known, deduplicated in canonical order; the test event cannot be chosen")
    func eventRules() throws {
        #expect(try WebhookEndpointRules.events(["review.created", "order.paid", "order.paid"]) == [.orderPaid, .reviewCreated])
        for bad in [[], ["order.shipped"], ["webhook.test"]] as [[String]] {
            #expect(throws: SoukError.self, "\(bad)") { try WebhookEndpointRules.events(bad) }
        }
        #expect(throws: SoukError.self) { try WebhookEndpointRules.events(nil) }
        #expect(throws: SoukError.self) { try WebhookEndpointRules.description(String(repeating: "é", count: 201)) }
        #expect(try WebhookEndpointRules.description("  Zapier  ") == "Zapier")
    }

    // MARK: Secrets

    @Test("Secrets: whsec_ + base64 of 24 random bytes; the key is the decoded part")
    func secrets() throws {
        let secret = WebhookSecret.generate()
        #expect(secret.hasPrefix("whsec_"))
        #expect(WebhookSecret.key(secret)?.count == 24)
        #expect(secret != WebhookSecret.generate())
        #expect(WebhookSecret.key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.count == 24)
        #expect(WebhookSecret.key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
        #expect(WebhookSecret.key("whsec_!!!") == nil)
    }

    @Test("After a rotation both secrets sign for 24 hours, then only the new one")
    func rotation() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let rotated = WebhookSigningKeys.rotate(Self.endpoint(), to: "whsec_bmV3", at: now)
        #expect(WebhookSigningKeys.secrets(for: rotated, at: now) == ["whsec_bmV3", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(WebhookSigningKeys.secrets(for: rotated, at: now.addingTimeInterval(24 * 3600 - 1)).count == 2)
        #expect(WebhookSigningKeys.secrets(for: rotated, at: now.addingTimeInterval(24 * 3600)) == ["whsec_bmV3"])
        let twice = WebhookSigningKeys.rotate(rotated, to: "whsec_dGhpcmQ=", at: now.addingTimeInterval(60))
        #expect(WebhookSigningKeys.secrets(for: twice, at: now.addingTimeInterval(61)) == ["whsec_dGhpcmQ=", "whsec_bmV3"])
    }

    // MARK: Health and retries

    struct HealthCase: Sendable, CustomStringConvertible {
        var succeeded: Bool
        /// Failing for this long before the attempt; nil: not failing.
        var failingFor: Double?
        var disables: Bool
        var stillFailing: Bool
        var description: String { "succeeded \(succeeded), failing for \(failingFor.map { "\($0) s" } ?? "-")" }
    }

    static let healthCases: [HealthCase] = [
        HealthCase(succeeded: false, failingFor: nil, disables: false, stillFailing: true),
        HealthCase(succeeded: false, failingFor: 3600, disables: false, stillFailing: true),
        HealthCase(succeeded: false, failingFor: 3 * 86400 - 1, disables: false, stillFailing: true),
        HealthCase(succeeded: false, failingFor: 3 * 86400, disables: true, stillFailing: true),
        HealthCase(succeeded: false, failingFor: 5 * 86400, disables: true, stillFailing: true),
        HealthCase(succeeded: true, failingFor: 5 * 86400, disables: false, stillFailing: false),
        HealthCase(succeeded: true, failingFor: nil, disables: false, stillFailing: false),
    ]

    @Test("An endpoint failing for 3 days without a success is disabled; one success clears the count", arguments: healthCases)
    func threeDayRule(_ test: HealthCase) {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let since = test.failingFor.map { now.addingTimeInterval(-$0) }
        let change = WebhookHealth.after(succeeded: test.succeeded, failingSince: since, now: now)
        #expect(change.disable == test.disables)
        #expect((change.failingSince != nil) == test.stillFailing)
        if !test.succeeded { #expect(change.failingSince == (since ?? now), "the first failure is kept") }
    }

    @Test("Retries outlast the 3-day rule for any retry base the configuration allows")
    func retriesSpanMoreThanThreeDays() {
        for base in [1.0, 2, 5, 60, 3600] {
            #expect(WebhookRetry.minimumSpan(base: base) > WebhookHealth.disableAfter + 6 * 3600, "base \(base)")
        }
        // …and the schedule really backs off: no more than 30 attempts in all.
        #expect(WebhookRetry.maxAttempts <= 30)
        #expect(WebhookRetry.minimumSpan(base: 1, attempts: 15) < 86400, "early retries come fast")
    }

    @Test("The payload is Standard-Webhooks shaped, with snake_case data")
    func payload() throws {
        let json = try WebhookPayload.encode(
            type: .test, at: Date(timeIntervalSince1970: 1_614_265_330), data: WebhookTestData(endpointID: "wh_1"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["type"] as? String == "webhook.test")
        #expect(object["timestamp"] as? String == "2021-02-25T15:02:10Z")
        #expect((object["data"] as? [String: Any])?["endpoint_id"] as? String == "wh_1")
    }
}
