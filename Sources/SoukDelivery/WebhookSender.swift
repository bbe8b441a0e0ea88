import CSoukCurl
import Crypto
import Foundation
import SoukCore

/// Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed
/// with the bytes of the `whsec_` secret.
public enum WebhookSigner {
    public static func signature(secret: String, messageID: String, timestamp: Int, body: String) -> String? {
        guard let key = WebhookSecret.key(secret) else { return nil }
        let signed = Data("\(messageID).\(timestamp).".utf8) + Data(body.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three headers of one attempt; one signature per secret, space-separated.
    public static func headers(messageID: String, timestamp: Int, body: String, secrets: [String]) -> [(String, String)] {
        let signatures = secrets.compactMap { signature(secret: $0, messageID: messageID, timestamp: timestamp, body: body) }
        return [
            ("webhook-id", messageID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signatures.joined(separator: " ")),
        ]
    }
}

/// One outgoing webhook request.
public struct WebhookRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: String

    public init(url: String, headers: [(String, String)], body: String) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Sends a webhook and says what came of it; never throws (a failure is a result to log).
public protocol WebhookTransport: Sendable {
    func send(_ request: WebhookRequest) async -> WebhookAttemptResult
}

/// The production sender: libcurl, with the address policy applied to what the host resolves to
/// at the moment of sending, and the connection pinned to the address checked.
public struct CurlWebhookTransport: WebhookTransport {
    public static let excerptBytes = 1024

    public var allowPrivate: Bool
    public var timeoutSeconds: Int
    /// Name → addresses; getaddrinfo by default (tests answer for names of their own).
    public var resolver: @Sendable (String) throws -> [IPAddress]

    public init(
        allowPrivate: Bool, timeoutSeconds: Int,
        resolver: @escaping @Sendable (String) throws -> [IPAddress] = CurlWebhookTransport.resolve
    ) {
        self.allowPrivate = allowPrivate
        self.timeoutSeconds = timeoutSeconds
        self.resolver = resolver
    }

    /// Blocking libcurl calls run here, off the cooperative pool (as the SMTP mailer's do).
    static let queue = DispatchQueue(label: "souk.webhooks.http", qos: .utility, attributes: .concurrent)

    public func send(_ request: WebhookRequest) async -> WebhookAttemptResult {
        let (allowPrivate, timeout, resolver) = (allowPrivate, timeoutSeconds, resolver)
        return await withCheckedContinuation { continuation in
            Self.queue.async {
                continuation.resume(
                    returning: Self.perform(request, allowPrivate: allowPrivate, timeoutSeconds: timeout, resolver: resolver))
            }
        }
    }

    static func failure(_ error: String, started: Date) -> WebhookAttemptResult {
        WebhookAttemptResult(
            statusCode: nil, durationMilliseconds: Int(Date().timeIntervalSince(started) * 1000), responseExcerpt: "",
            error: error)
    }

    static func perform(
        _ request: WebhookRequest, allowPrivate: Bool, timeoutSeconds: Int, resolver: (String) throws -> [IPAddress]
    ) -> WebhookAttemptResult {
        let started = Date()
        let target: WebhookTarget
        do {
            // Checked again: the operator may have turned allow_private off since it was stored.
            target = try WebhookURLRules.target(request.url, allowPrivate: allowPrivate)
        } catch let error as SoukError {
            return failure(error.detail, started: started)
        } catch {
            return failure("\(error)", started: started)
        }
        let address: IPAddress
        do {
            let resolved = try target.literal.map { [$0] } ?? resolver(target.host)
            address = try WebhookURLRules.pinnedAddress(resolved: resolved, host: target.host, allowPrivate: allowPrivate)
        } catch let error as SoukError {
            return failure(error.detail, started: started)
        } catch {
            return failure("\(error)", started: started)
        }
        var lines = request.headers.map { "\($0.0): \($0.1)" }
        lines += ["Content-Type: application/json", "User-Agent: Souk-Webhooks/1", "Expect:"]
        var status = 0
        var excerpt = [CChar](repeating: 0, count: excerptBytes)
        var excerptLength = 0
        var elapsed = 0
        var error = [CChar](repeating: 0, count: 512)
        // JSON has no NUL bytes (it escapes them), so the C string is the whole body.
        let bodyLength = request.body.utf8.count
        let code = withCStrings(lines) { headerPointers in
            request.body.withCString { bodyPointer in
                souk_http_post(
                    request.url, address.description, target.port, headerPointers, headerPointers.count, bodyPointer,
                    bodyLength, timeoutSeconds, &status, &excerpt, excerpt.count, &excerptLength, &elapsed, &error,
                    error.count)
            }
        }
        let text = String(decoding: excerpt[0..<excerptLength].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if code != 0 {
            let reason = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            var detail = reason.isEmpty ? "libcurl error \(code)" : reason
            if code == 28 { detail += " (timeout \(timeoutSeconds) s)" }
            return WebhookAttemptResult(
                statusCode: status > 0 ? status : nil, durationMilliseconds: elapsed, responseExcerpt: text, error: detail)
        }
        return WebhookAttemptResult(statusCode: status, durationMilliseconds: elapsed, responseExcerpt: text, error: nil)
    }

    /// The addresses `host` resolves to now (getaddrinfo), or `badRequest` with the resolver's reason.
    public static func resolve(_ host: String) throws -> [IPAddress] {
        var out = [CChar](repeating: 0, count: 2048)
        let code = souk_resolve(host, &out, out.count)
        let text = out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard code == 0 else { throw SoukError(.badRequest, "\(host) could not be resolved: \(text).") }
        return text.split(separator: ",").compactMap { IPAddress(String($0)) }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return body(copies.map { UnsafePointer($0) })
    }
}
