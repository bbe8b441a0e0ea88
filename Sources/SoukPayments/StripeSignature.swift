import Crypto
import Foundation
import SoukCore

/// Stripe's webhook signature scheme (`Stripe-Signature: t=…,v1=…`), used by Stripe and by the
/// built-in test provider: HMAC-SHA256 over `"{t}.{raw body}"`, keyed by the whole `whsec_…`
/// string, any `v1` may match, at most `tolerance` seconds old.
public enum StripeSignature {
    public static let tolerance: TimeInterval = 300

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case missingHeader, malformedHeader, noV1Signature, staleTimestamp, mismatch

        public var description: String {
            switch self {
            case .missingHeader: "the Stripe-Signature header is missing"
            case .malformedHeader: "the Stripe-Signature header has no timestamp"
            case .noV1Signature: "the Stripe-Signature header has no v1 signature"
            case .staleTimestamp: "the signature's timestamp is more than 300 seconds from now"
            case .mismatch: "no v1 signature matches the body (check [payments.stripe] webhook_secret)"
            }
        }
    }

    public static func verify(header: String?, body: Data, secret: String, now: Date) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missingHeader }
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            if key == "t", timestamp == nil { timestamp = Int(value) }
            if key == "v1" { signatures.append(value.lowercased()) }
        }
        guard let timestamp else { throw .malformedHeader }
        guard !signatures.isEmpty else { throw .noV1Signature }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else { throw .staleTimestamp }
        let expected = signature(body: body, timestamp: timestamp, secret: secret)
        // Compare every candidate fully, so timing reveals nothing about which one came close.
        var matched = false
        for candidate in signatures where ConstantTime.equal(candidate, expected) { matched = true }
        guard matched else { throw .mismatch }
    }

    /// The hex `v1` signature of `body` at `timestamp`.
    public static func signature(body: Data, timestamp: Int, secret: String) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return Hex.encode(mac)
    }

    /// A complete header value, as Stripe sends it.
    public static func header(body: Data, timestamp: Int, secret: String) -> String {
        "t=\(timestamp),v1=\(signature(body: body, timestamp: timestamp, secret: secret))"
    }
}

/// Stripe event objects (also sent by the test provider) reduced to `PaymentEvent`s.
public enum StripeEvents {
    /// Throws `badRequest` when the body is not a Stripe event.
    public static func parse(_ body: Data, provider: String) throws -> PaymentEvent {
        guard let event = try? JSONValue.read(body), let id = event["id"]?.stringValue,
            let type = event["type"]?.stringValue, let object = event["data"]?["object"]
        else {
            throw SoukError(.badRequest, "The webhook body is not a Stripe event (id, type and data.object are required).")
        }
        let (reference, effect) = meaning(type: type, object: object)
        return PaymentEvent(provider: provider, id: id, type: type, order: reference, effect: effect)
    }

    /// The order a Checkout Session belongs to: the one this store opened that session for. Its
    /// metadata is never trusted to find the order (a session paid elsewhere may name any order).
    static func sessionReference(_ session: JSONValue) -> OrderReference? {
        if let id = session["id"]?.stringValue { return .session(id) }
        return claimedOrderID(session).map(OrderReference.order)
    }

    /// The order a session's own metadata names: reported with a mismatch, never paid by it.
    static func claimedOrderID(_ object: JSONValue) -> String? {
        object["metadata"]?["order_id"]?.stringValue ?? object["client_reference_id"]?.stringValue
    }

    /// A charge's order: the one paid by its payment intent, else (an older charge without one)
    /// what its metadata names.
    static func paymentReference(_ object: JSONValue) -> OrderReference? {
        if let id = object["payment_intent"]?.stringValue { return .payment(id) }
        return object["metadata"]?["order_id"]?.stringValue.map(OrderReference.order)
    }

    /// A session's payment id: its payment intent (what refunds name), else the session id.
    static func paymentID(of session: JSONValue) -> String {
        session["payment_intent"]?.stringValue ?? session["id"]?.stringValue ?? ""
    }

    /// What a paid session took: its amount and currency, through which session, for which order.
    static func payment(of session: JSONValue) -> Payment {
        Payment(
            id: paymentID(of: session), checkoutID: session["id"]?.stringValue, amount: session["amount_total"]?.intValue,
            currency: session["currency"]?.stringValue, claimedOrderID: claimedOrderID(session))
    }

    /// What a session's state means, for a completed-session event or a retrieved session.
    public static func sessionEffect(_ session: JSONValue) -> PaymentEffect {
        if session["status"]?.stringValue == "expired" { return .expired }
        switch session["payment_status"]?.stringValue {
        case "paid", "no_payment_required": return .paid(payment(of: session))
        default: return .pending
        }
    }

    static func meaning(type: String, object: JSONValue) -> (OrderReference?, PaymentEffect?) {
        switch type {
        case "checkout.session.completed":
            return (sessionReference(object), sessionEffect(object))
        case "checkout.session.async_payment_succeeded":
            return (sessionReference(object), .paid(payment(of: object)))
        case "checkout.session.async_payment_failed":
            return (sessionReference(object), .failed)
        case "checkout.session.expired":
            return (sessionReference(object), .expired)
        case "charge.refunded":
            let refundID = object["refunds"]?["data"]?.arrayValue?.first?["id"]?.stringValue
            return (
                paymentReference(object),
                object["amount_refunded"]?.intValue.map { .refunded(totalRefunded: $0, refundID: refundID) }
            )
        case "charge.dispute.created":
            return (paymentReference(object), .disputeOpened)
        case "charge.dispute.closed":
            // Only `lost` takes the money back; `won`, and inquiries closed without a chargeback
            // (`warning_closed`, `prevented`), leave it with the store.
            return (paymentReference(object), .disputeClosed(won: object["status"]?.stringValue != "lost"))
        default:
            return (nil, nil)
        }
    }
}
