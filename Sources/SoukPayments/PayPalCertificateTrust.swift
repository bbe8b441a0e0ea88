import Foundation
import SoukCore
import SwiftASN1  // ASN1ObjectIdentifier, for VerifierPolicy
// The store's clock (tests move it), not the wall clock, decides whether a certificate is valid.
@_spi(FixedExpiryValidationTime) import X509

/// Whether a PEM bundle from `PAYPAL-CERT-URL` holds PayPal's webhook signing certificate: the
/// first certificate (the leaf) must chain, through the intermediates sent after it, to one of
/// the trusted roots under RFC 5280 (validity dates, CA constraints, signatures), and its subject's
/// common name must be PayPal's signing name. The host check alone (`PayPalWebhookVerifier`)
/// would let any certificate served from a PayPal host — or a look-alike the URL check missed —
/// sign events.
public struct PayPalCertificateTrust: Sendable {
    /// PayPal's live and sandbox signing certificates.
    public static let paypalSubjects: Set<String> = [
        "messageverificationcerts.paypal.com", "messageverificationcerts.sandbox.paypal.com",
    ]
    /// The system's trust store on Debian and Ubuntu (and most Linux distributions).
    public static let systemRootsFile = "/etc/ssl/certs/ca-certificates.crt"

    let rootsFile: String
    let expectedSubjects: Set<String>
    private let roots = RootsCache()

    /// `rootsFile`: PEM certificates to trust (tests point it at their own CA); empty: the system's.
    public init(rootsFile: String = "", expectedSubjects: Set<String> = Self.paypalSubjects) {
        self.rootsFile = rootsFile.isEmpty ? Self.systemRootsFile : rootsFile
        self.expectedSubjects = Set(expectedSubjects.map { $0.lowercased() })
    }

    /// The validated leaf of `pem`, or `badRequest` saying why it is not trusted.
    public func signingCertificate(pem: String, at now: Date) async throws -> Certificate {
        let certificates = Self.certificates(inPEM: pem)
        guard let leaf = certificates.first else {
            throw SoukError(.badRequest, "PayPal webhook rejected: the certificate URL did not give a PEM certificate.")
        }
        let trusted = try await roots.load(rootsFile)
        var verifier = Verifier(rootCertificates: CertificateStore(trusted)) {
            RFC5280Policy(fixedExpiryValidationTime: now)
            SubjectCommonNamePolicy(expected: expectedSubjects)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(certificates.dropFirst())) {
        case .validCertificate:
            return leaf
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }
            throw SoukError(
                .badRequest,
                "PayPal webhook rejected: the signing certificate is not trusted (\(reasons.first ?? "no chain to a trusted root")).")
        }
    }

    /// Every `CERTIFICATE` block of a PEM text, in order; blocks that do not parse are skipped
    /// (a bundle may carry other kinds).
    static func certificates(inPEM pem: String) -> [Certificate] {
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        var found: [Certificate] = []
        var rest = pem[...]
        while let start = rest.range(of: begin), let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) {
            if let certificate = try? Certificate(pemEncoded: String(rest[start.lowerBound..<stop.upperBound])) {
                found.append(certificate)
            }
            rest = rest[stop.upperBound...]
        }
        return found
    }
}

/// The leaf's subject must carry one of the expected common names (case-insensitive).
struct SubjectCommonNamePolicy: VerifierPolicy {
    let expected: Set<String>
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = []

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        let names = chain.leaf.subject.flatMap { $0 }
            .filter { $0.type == .RDNAttributeType.commonName }
            .compactMap { String($0.value)?.lowercased() }
        guard names.contains(where: expected.contains) else {
            return .failsToMeetPolicy(
                reason: "its subject \(chain.leaf.subject) is not PayPal's (\(expected.sorted().joined(separator: " or ")))")
        }
        return .meetsPolicy
    }
}

/// The trusted roots, read from their file once.
private actor RootsCache {
    private var loaded: [Certificate]?

    func load(_ file: String) throws -> [Certificate] {
        if let loaded { return loaded }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw SoukError(
                .internalError, "The trust roots for PayPal's certificates (\(file)) cannot be read; see payments.paypal.cert_roots_file.")
        }
        let roots = PayPalCertificateTrust.certificates(inPEM: text)
        guard !roots.isEmpty else {
            throw SoukError(.internalError, "The trust roots file \(file) holds no PEM certificate.")
        }
        loaded = roots
        return roots
    }
}
