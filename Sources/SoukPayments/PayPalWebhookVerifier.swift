import Crypto
import CryptoExtras
import Foundation
import SoukCore
import X509

/// Verifies PayPal webhooks offline, as PayPal documents: the message
/// `transmission_id|transmission_time|webhook_id|crc32(body)` signed SHA256withRSA by the
/// certificate at `PAYPAL-CERT-URL`. The certificate must come over https from a paypal.com host
/// (or from the configured API host, which tests point at a fake), from that very URL (a
/// redirect is refused: it could lead anywhere), and be PayPal's: a chain to the trusted roots
/// with PayPal's subject (`PayPalCertificateTrust`). Validated certificates are cached by URL.
struct PayPalWebhookVerifier: Sendable {
    let webhookID: String
    let apiBase: String
    let transport: any HTTPTransport
    let clock: any WallClock
    let trust: PayPalCertificateTrust
    let cache = CertificateCache()
    static let tolerance: TimeInterval = 300

    func verify(_ request: WebhookRequest) async throws {
        func header(_ name: String) throws -> String {
            guard let value = request.headers[name], !value.isEmpty else {
                throw SoukError(.badRequest, "PayPal webhook rejected: the \(name) header is missing.")
            }
            return value
        }
        let transmissionID = try header("paypal-transmission-id")
        let transmissionTime = try header("paypal-transmission-time")
        let signatureText = try header("paypal-transmission-sig")
        let certURL = try header("paypal-cert-url")
        if let algorithm = request.headers["paypal-auth-algo"], algorithm != "SHA256withRSA" {
            throw SoukError(.badRequest, "PayPal webhook rejected: unsupported signature algorithm \(algorithm).")
        }
        guard !webhookID.isEmpty else {
            throw SoukError(.badRequest, "PayPal webhook rejected: [payments.paypal] webhook_id is not configured.")
        }
        guard let sent = Self.parseTime(transmissionTime) else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the transmission time \(transmissionTime) is not an ISO 8601 time.")
        }
        guard abs(sent.timeIntervalSince(clock.now())) <= Self.tolerance else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the transmission time is more than 300 seconds from now.")
        }
        guard let signature = Data(base64Encoded: signatureText) else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the signature is not base64.")
        }
        let key = try await publicKey(certURL)
        let message = "\(transmissionID)|\(transmissionTime)|\(webhookID)|\(CRC32.checksum(request.body))"
        guard key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: Data(message.utf8), padding: .insecurePKCS1v1_5)
        else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the signature does not match (check [payments.paypal] webhook_id).")
        }
    }

    /// PayPal sends `2024-05-01T12:00:00Z`, sometimes with fractional seconds or an offset.
    static func parseTime(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: text) ?? fractional.date(from: text)
    }

    /// Only PayPal's own hosts (or the configured API host) may supply the certificate: otherwise
    /// anyone could sign events with a certificate of their own.
    func isTrusted(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        if url.scheme == "https" && (host == "paypal.com" || host.hasSuffix(".paypal.com")) { return true }
        guard let api = URL(string: apiBase), let apiHost = api.host?.lowercased() else { return false }
        return url.scheme == api.scheme && host == apiHost && url.port == api.port
    }

    private func publicKey(_ certURL: String) async throws -> _RSA.Signing.PublicKey {
        guard let url = URL(string: certURL), isTrusted(url) else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the certificate URL \(certURL) is not a PayPal host.")
        }
        if let cached = await cache.certificate(for: certURL) { return try key(of: cached) }
        let response: IncomingResponse
        do {
            response = try await transport.send(OutgoingRequest(method: "GET", url: url, followsRedirects: false))
        } catch {
            throw PaymentProviderFailure.unreachable("paypal", "send its webhook certificate", "\(certURL): \(error)")
        }
        if (300..<400).contains(response.status) {
            throw SoukError(.badRequest, "PayPal webhook rejected: \(certURL) answered a redirect (\(response.status)), not the certificate.")
        }
        guard response.status == 200, let pem = String(data: response.body, encoding: .utf8) else {
            throw SoukError(.badRequest, "PayPal webhook rejected: \(certURL) did not give a PEM certificate.")
        }
        // Checked (chain, dates, subject) before it is cached; the dates again on each use.
        let certificate = try await trust.signingCertificate(pem: pem, at: clock.now())
        await cache.store(certificate, for: certURL)
        return try key(of: certificate)
    }

    private func key(of certificate: Certificate) throws -> _RSA.Signing.PublicKey {
        let now = clock.now()
        guard certificate.notValidBefore <= now, now <= certificate.notValidAfter else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the signing certificate is expired or not yet valid.")
        }
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the signing certificate has no RSA key.")
        }
        return key
    }
}

actor CertificateCache {
    private var certificates: [String: Certificate] = [:]

    func certificate(for url: String) -> Certificate? { certificates[url] }

    func store(_ certificate: Certificate, for url: String) {
        if certificates.count > 32 { certificates.removeAll() }
        certificates[url] = certificate
    }
}

/// CRC-32 (IEEE 802.3), the checksum PayPal signs over the body, as an unsigned decimal.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
