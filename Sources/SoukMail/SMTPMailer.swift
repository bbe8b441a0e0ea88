import CSoukCurl
import Dispatch
import Foundation

/// Sends mail over SMTP with libcurl: `smtp://[user:pass@]host[:port]` upgrades with STARTTLS
/// when the server offers it, `smtps://` is TLS from the first byte. Certificates are verified.
///
/// When the URL carries credentials and the host is not loopback, STARTTLS is *required* for
/// `smtp://` (unless `requireTLS: false` is passed), so a password never crosses the network in
/// clear because a server (or someone in between) did not offer TLS.
///
/// libcurl blocks, so each send runs on a dedicated dispatch queue, not on Swift's cooperative
/// thread pool; `timeout` bounds the whole exchange (a cancelled task still waits for it).
public struct SMTPMailer: Mailer, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The configured URL, credentials included: never log it; use `server` instead.
    public let url: String
    public let timeout: Duration
    public let requireTLS: Bool

    public init(url: String, timeout: Duration = .seconds(30), requireTLS: Bool? = nil) {
        self.url = url.trimmingCharacters(in: .whitespaces)
        self.timeout = timeout
        self.requireTLS = requireTLS ?? SMTPURL(self.url).needsTLSForCredentials
    }

    /// The URL with any `user:password@` replaced by `***@`, safe to log.
    public var server: String { Self.redact(url) }

    public var description: String { "SMTPMailer(\(server))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["server": server, "timeout": timeout, "requireTLS": requireTLS])
    }

    /// `smtp://user:pass@host:587` → `smtp://***@host:587`; URLs without credentials are unchanged.
    public static func redact(_ url: String) -> String {
        let parsed = SMTPURL(url)
        guard parsed.userInfo != nil else { return url }
        return parsed.scheme + "://***@" + parsed.hostAndPort + parsed.rest
    }

    public func send(_ message: MailMessage) async throws {
        let parsed = SMTPURL(url)
        guard parsed.isSMTP, !parsed.host.isEmpty else {
            throw MailError(
                .configuration,
                "mail.smtp_url \"\(server)\" is not an SMTP URL; use smtp://user:pass@host:587 (STARTTLS) "
                    + "or smtps://user:pass@host:465, or leave it empty to write to the outbox.")
        }
        let data = try message.renderedData()
        let from = try message.envelopeFrom()
        let recipient = try message.envelopeTo()
        let seconds = max(1, Int((timeout / .seconds(1)).rounded(.up)))
        let (url, requireTLS) = (self.url, self.requireTLS)
        let (code, reason) = await withCheckedContinuation { (continuation: CheckedContinuation<(Int32, String), Never>) in
            Self.queue.async {
                continuation.resume(
                    returning: Self.perform(
                        url: url, from: from, recipient: recipient, data: data, seconds: seconds, requireTLS: requireTLS))
            }
        }
        guard code != 0 else { return }
        throw failure(code: Int(code), reason: parsed.scrub(reason), message: message, recipient: recipient)
    }

    /// Blocking sends run here, concurrently, off the cooperative pool.
    static let queue = DispatchQueue(label: "souk.mail.smtp", qos: .utility, attributes: .concurrent)

    static func perform(url: String, from: String, recipient: String, data: Data, seconds: Int, requireTLS: Bool)
        -> (Int32, String)
    {
        var error = [CChar](repeating: 0, count: 512)
        let bytes = [UInt8](data)
        let code = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(1, buffer.count)) { message in
                souk_smtp_send(
                    url, from, recipient, message, buffer.count, seconds, requireTLS ? 1 : 0, &error, error.count)
            }
        }
        let reason = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (code, reason)
    }

    func failure(code: Int, reason: String, message: MailMessage, recipient: String) -> MailError {
        var reason = reason.isEmpty ? "libcurl error \(code)" : reason
        // The shim appends "(SMTP 550)" when the server replied.
        var reply: Int?
        if let range = reason.range(of: #"\(SMTP (\d{3})\)$"#, options: .regularExpression) {
            reply = Int(reason[range].dropFirst(6).dropLast())
        }
        if code == 64 && requireTLS {  // CURLE_USE_SSL_FAILED
            reason += " (the URL has credentials, so Souk requires TLS: use a server that offers STARTTLS, or smtps://)"
        }
        if code == 28 { reason += " (timeout \(timeout))" }
        if code == 3 {  // CURLE_URL_MALFORMAT: libcurl refuses e.g. an unencoded @ in the user name
            reason += " (check mail.smtp_url; percent-encode special characters in the user name and password, e.g. @ as %40)"
        }
        return MailError(
            .smtp,
            "SMTP server \(server) did not take message <\(message.bareMessageID)> for \(recipient): \(reason)",
            curlCode: code, smtpReplyCode: reply)
    }
}

/// Just enough URL parsing for SMTP URLs, tolerant of what `URL` rejects (e.g. an unencoded `@`
/// in the user name: the credentials end at the authority's last `@`).
struct SMTPURL {
    var scheme = ""
    var userInfo: String?
    var hostAndPort = ""
    var host = ""
    var rest = ""

    init(_ url: String) {
        guard let separator = url.range(of: "://") else {
            hostAndPort = url
            return
        }
        scheme = String(url[..<separator.lowerBound])
        let afterScheme = url[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        rest = String(afterScheme[authorityEnd...])
        if let at = authority.lastIndex(of: "@") {
            userInfo = String(authority[..<at])
            hostAndPort = String(authority[authority.index(after: at)...])
        } else {
            hostAndPort = String(authority)
        }
        if hostAndPort.hasPrefix("["), let close = hostAndPort.firstIndex(of: "]") {
            host = String(hostAndPort[hostAndPort.index(after: hostAndPort.startIndex)..<close])
        } else {
            host = String(hostAndPort.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
    }

    var isSMTP: Bool { ["smtp", "smtps"].contains(scheme.lowercased()) }

    var password: String? {
        guard let userInfo, let colon = userInfo.firstIndex(of: ":") else { return nil }
        let password = String(userInfo[userInfo.index(after: colon)...])
        return password.isEmpty ? nil : password
    }

    var isLoopback: Bool {
        let host = host.lowercased()
        return host == "localhost" || host.hasSuffix(".localhost") || host.hasPrefix("127.") || host == "::1"
    }

    /// Credentials over plain `smtp://` to a non-loopback host: STARTTLS must not be optional.
    var needsTLSForCredentials: Bool { scheme.lowercased() == "smtp" && userInfo != nil && !isLoopback }

    /// Removes the password (as written and percent-decoded) from a text, should libcurl quote it.
    func scrub(_ text: String) -> String {
        guard let password else { return text }
        var text = text
        for secret in Set([password, password.removingPercentEncoding ?? password]) where secret.count >= 1 {
            text = text.replacingOccurrences(of: secret, with: "***")
        }
        return text
    }
}
