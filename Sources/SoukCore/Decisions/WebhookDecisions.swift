import Foundation

/// `whsec_` secrets: 24 random bytes, base64, as the Standard Webhooks spec writes them.
public enum WebhookSecret {
    public static let prefix = "whsec_"

    public static func generate() -> String { prefix + Data(RandomText.bytes(24)).base64EncodedString() }

    /// The HMAC key: the base64-decoded part after `whsec_`. Nil for a malformed secret.
    public static func key(_ secret: String) -> [UInt8]? {
        guard secret.hasPrefix(prefix), let data = Data(base64Encoded: String(secret.dropFirst(prefix.count))),
            !data.isEmpty
        else { return nil }
        return [UInt8](data)
    }
}

/// Which secrets sign a delivery, and how long a rotated-out secret keeps signing.
public enum WebhookSigningKeys {
    /// After a rotation, the old secret signs too for a day, so a receiver can switch over
    /// without dropping deliveries.
    public static let overlap: TimeInterval = 24 * 3600

    /// The secrets to sign with at `now`, newest first (the `webhook-signature` header carries
    /// one `v1,…` per secret, space-separated).
    public static func secrets(for endpoint: WebhookEndpoint, at now: Date) -> [String] {
        var secrets = [endpoint.secret]
        if let previous = endpoint.previousSecret, let expiry = endpoint.previousSecretExpiresAt, now < expiry {
            secrets.append(previous)
        }
        return secrets
    }

    /// The endpoint after a rotation to `newSecret` at `now`: the current secret becomes the
    /// previous one for `overlap` (one rotated out before is dropped at once).
    public static func rotate(_ endpoint: WebhookEndpoint, to newSecret: String, at now: Date) -> WebhookEndpoint {
        var rotated = endpoint
        rotated.previousSecret = endpoint.secret
        rotated.previousSecretExpiresAt = now.addingTimeInterval(overlap)
        rotated.secret = newSecret
        rotated.updatedAt = now
        return rotated
    }
}

/// Which endpoints hear of an event.
public enum WebhookFanout {
    /// The seller's enabled endpoints subscribed to `type`, in the order given. The test event
    /// goes to exactly the endpoint asked for, so it never fans out.
    public static func recipients(of type: WebhookEventType, sellerID: String, among endpoints: [WebhookEndpoint])
        -> [WebhookEndpoint]
    {
        guard type != .test else { return [] }
        return endpoints.filter { $0.sellerID == sellerID && $0.enabled && $0.events.contains(type) }
    }
}

/// The endpoint's state after an attempt: what to store, and whether Souk gives up on it.
public struct WebhookHealthChange: Sendable, Equatable {
    public var failingSince: Date?
    /// Turn the endpoint off and tell its seller (`webhook_endpoint.failing`).
    public var disable: Bool
}

/// The rule that stops Souk calling an endpoint that no longer answers: failing without a single
/// success for `disableAfter` disables it. One success clears the failure.
public enum WebhookHealth {
    public static let disableAfter: TimeInterval = 3 * 24 * 3600

    public static func after(succeeded: Bool, failingSince: Date?, now: Date) -> WebhookHealthChange {
        if succeeded { return WebhookHealthChange(failingSince: nil, disable: false) }
        let since = failingSince ?? now
        return WebhookHealthChange(failingSince: since, disable: now.timeIntervalSince(since) >= disableAfter)
    }

    /// What the seller is told when their endpoint is turned off.
    public static func notice(for endpoint: WebhookEndpoint, failingSince: Date) -> Notice {
        Notice(
            userID: endpoint.sellerID, type: .webhookEndpointFailing, title: "Webhook endpoint disabled",
            body: "\(endpoint.url) has failed every delivery since \(Timestamp.rfc3339(failingSince)), so Souk "
                + "turned it off. Fix it, then enable it again on the webhooks page; its delivery log shows the errors.",
            url: "/dashboard/webhooks/\(endpoint.id)",
            dedupeKey: "webhook_endpoint_failing:\(endpoint.id):\(Int(failingSince.timeIntervalSince1970))", email: true)
    }

    public static let disabledReason = "Disabled by Souk: every delivery failed for 3 days."
}

/// How often a delivery is retried: the queue's backoff (`jobs.retry_base_seconds`, doubling)
/// with a longer cap, for enough attempts to outlast `WebhookHealth.disableAfter`: a message is
/// never given up while its endpoint is still considered alive.
public enum WebhookRetry {
    /// The longest wait between two attempts (10 hours).
    public static let cap: TimeInterval = 36_000
    public static let maxAttempts = 30

    /// The least time `attempts` attempts span with base `base` and the queue's ±`jitter`.
    public static func minimumSpan(base: TimeInterval, attempts: Int = maxAttempts, jitter: Double = 0.2) -> TimeInterval {
        (1..<max(1, attempts)).reduce(0) { total, attempt in
            total + min(base * pow(2, Double(attempt - 1)), cap) * (1 - jitter)
        }
    }
}

/// Endpoint fields as a seller gives them, checked.
public enum WebhookEndpointRules {
    public static let maxDescriptionLength = 200
    public static let maxEndpointsPerSeller = 20

    /// The events, deduplicated in the canonical order. Refuses none, unknown ones and the test event.
    public static func events(_ raw: [String]?) throws -> [WebhookEventType] {
        let known = WebhookEventType.subscribable.map(\.rawValue).joined(separator: ", ")
        guard let raw, !raw.isEmpty else {
            throw SoukError.validation("events", "events must list at least one of: \(known).")
        }
        var chosen = Set<WebhookEventType>()
        for name in raw {
            guard let type = WebhookEventType(rawValue: name), type != .test else {
                throw SoukError.validation("events", "\(name) is not an event; choose from: \(known).")
            }
            chosen.insert(type)
        }
        return WebhookEventType.subscribable.filter(chosen.contains)
    }

    public static func description(_ raw: String?) throws -> String {
        // Counted as JSON Schema's maxLength counts (code points), before trimming.
        guard (raw ?? "").unicodeScalars.count <= maxDescriptionLength else {
            throw SoukError.validation("description", "description is longer than \(maxDescriptionLength) characters.")
        }
        return (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The JSON body of a webhook: Standard Webhooks' `{type, timestamp, data}`.
public enum WebhookPayload {
    private struct Envelope<Body: Encodable>: Encodable {
        var type: String
        var timestamp: String
        var data: Body
    }

    public static func encode(type: WebhookEventType, at now: Date, data: some Encodable) throws -> String {
        // Key order fixed (sorted) so a stored payload reads the same every time; the data types
        // spell their keys in snake_case themselves.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Envelope(type: type.rawValue, timestamp: Timestamp.rfc3339(now), data: data)
        return String(decoding: try encoder.encode(body), as: UTF8.self)
    }
}
