import Foundation

public enum Role: String, Sendable, Codable, CaseIterable {
    case buyer, seller, admin
}

/// A seller's standing with the operator. Only `verified` sellers may publish.
public enum SellerStatus: String, Sendable, Codable, CaseIterable {
    case pending, verified, rejected, suspended
}

/// A user account as the rest of Souk sees it (never carries the password hash).
public struct User: Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var role: Role
    /// `nil` for buyers; sellers and admins have a status (admins are always `verified`).
    public var sellerStatus: SellerStatus?
    public var disabled: Bool
    public var createdAt: Date

    public init(
        id: String, email: String, name: String, role: Role, sellerStatus: SellerStatus?, disabled: Bool,
        createdAt: Date
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.sellerStatus = sellerStatus
        self.disabled = disabled
        self.createdAt = createdAt
    }
}

/// Rules for what account details are acceptable. Returns the normalised value or throws
/// `validationFailed` naming the field.
public enum AccountRules {
    public static let minimumPasswordLength = 8
    /// bcrypt reads at most 72 bytes; longer passwords would be silently truncated.
    public static let maximumPasswordBytes = 72

    public static func email(_ raw: String) throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," })
        else {
            throw SoukError.validation("email", "Enter a valid e-mail address, like name@example.com.")
        }
        return email
    }

    public static func password(_ password: String) throws -> String {
        guard password.count >= minimumPasswordLength else {
            throw SoukError.validation("password", "Use a password of at least \(minimumPasswordLength) characters.")
        }
        guard password.utf8.count <= maximumPasswordBytes else {
            throw SoukError.validation("password", "Use a password of at most \(maximumPasswordBytes) bytes.")
        }
        return password
    }

    public static func name(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100, !name.contains(where: { $0.isNewline }) else {
            throw SoukError.validation("name", "Enter a name of 1 to 100 characters on one line.")
        }
        return name
    }

    public static func tokenName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else {
            throw SoukError.validation("name", "Give the token a name of 1 to 100 characters.")
        }
        return name
    }
}

/// What a personal access token may do.
public enum TokenScope: String, Sendable, Codable, CaseIterable {
    /// Safe methods only (GET, HEAD).
    case read
    /// Everything the owner may do.
    case write
}
