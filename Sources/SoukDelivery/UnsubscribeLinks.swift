import Crypto
import Foundation
import SoukCore

/// The one-click unsubscribe links of notification e-mails (RFC 8058):
/// `/unsubscribe?user=…&type=…&sig=…`, where `sig` is an HMAC of the user and the type with a key
/// derived from the server secret. A link never expires (an old e-mail must still work) and can
/// only turn off that one type of e-mail for that one user.
public struct UnsubscribeLinks: Sendable {
    let key: SymmetricKey
    let baseURL: String

    public init(serverSecret: [UInt8], baseURL: String) {
        let derived = HMAC<SHA256>.authenticationCode(
            for: Data("souk-unsubscribe-links".utf8), using: SymmetricKey(data: serverSecret))
        self.key = SymmetricKey(data: Data(derived))
        self.baseURL = baseURL
    }

    public func link(userID: String, type: NotificationType) -> String {
        var components = URLComponents()
        components.queryItems = [
            URLQueryItem(name: "user", value: userID), URLQueryItem(name: "type", value: type.rawValue),
            URLQueryItem(name: "sig", value: signature(userID: userID, type: type)),
        ]
        return "\(baseURL)/unsubscribe?\(components.percentEncodedQuery ?? "")"
    }

    /// The user and type a link stands for, or nil when it was altered or is incomplete.
    public func verify(user: String?, type: String?, sig: String?) -> (userID: String, type: NotificationType)? {
        guard let user, let type, let kind = NotificationType(rawValue: type), let sig else { return nil }
        let expected = signature(userID: user, type: kind)
        guard ConstantTime.equal(sig, expected) else { return nil }
        return (user, kind)
    }

    func signature(userID: String, type: NotificationType) -> String {
        let message = "\(userID.utf8.count):\(userID)\(type.rawValue)"
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)))
    }
}
