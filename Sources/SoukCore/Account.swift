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
    /// Why an admin rejected or suspended the seller (shown to them), when they said.
    public var sellerStatusReason: String?
    public var disabled: Bool
    public var createdAt: Date
    /// The IANA time zone the user's browser last reported (`Europe/Berlin`): their e-mails'
    /// dates are in it. Nil until a browser said.
    public var timeZone: String?
    /// The address of a seller's page (`/sellers/moth-press`), when the seller chose one.
    public var slug: String?

    public init(
        id: String, email: String, name: String, role: Role, sellerStatus: SellerStatus?, disabled: Bool,
        createdAt: Date, sellerStatusReason: String? = nil, timeZone: String? = nil, slug: String? = nil
    ) {
        self.sellerStatusReason = sellerStatusReason
        self.timeZone = timeZone
        self.slug = slug
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

    /// Why a seller was rejected or suspended: trimmed, nil when blank, at most 500 characters.
    public static func sellerStatusReason(_ raw: String?) throws -> String? {
        guard let reason = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else { return nil }
        guard reason.count <= 500 else {
            throw SoukError.validation("reason", "Keep the reason under 500 characters (it has \(reason.count)).")
        }
        return reason
    }

    /// The longest address SMTP can carry (RFC 5321: a 256-octet path less the angle brackets).
    public static let maximumEmailBytes = 254

    /// The one e-mail normaliser: every path that takes an address (sign-up, sign-in, its rate
    /// limit, guest checkout, password resets) calls it before any other work, so they all agree on
    /// which account an input means. Trims whitespace and newlines, lower-cases (the users table
    /// compares with NOCASE, so this is the same account), caps the length and checks the shape.
    /// Cheap even for a megabyte of input: the length is checked before anything is copied.
    public static func email(_ raw: String) throws -> String {
        // Surrounding whitespace may take some room, but not unbounded room.
        guard raw.utf8.count <= maximumEmailBytes + 64 else { throw invalidEmail }
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= maximumEmailBytes, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains(".."),
            email.unicodeScalars.allSatisfy(isAllowedInEmail)
        else { throw invalidEmail }
        return email
    }

    static let invalidEmail = SoukError.validation("email", "Enter a valid e-mail address, like name@example.com.")

    /// No spaces, control characters or the punctuation that would let an address smuggle a
    /// second recipient or a header into a message.
    private static func isAllowedInEmail(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
            || scalar.properties.generalCategory == .format
        {
            return false
        }
        return !"<>,;:\\\"()[]".unicodeScalars.contains(scalar)
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

/// A personal access token as its owner sees it (the secret itself is shown once, at creation).
public struct AccessToken: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var name: String
    public var scopes: [TokenScope]
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(id: String, userID: String, name: String, scopes: [TokenScope], createdAt: Date, lastUsedAt: Date?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.scopes = scopes
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// What a personal access token may do.
public enum TokenScope: String, Sendable, Codable, CaseIterable {
    /// Safe methods only (GET, HEAD).
    case read
    /// Everything the owner may do.
    case write
}

/// The address a seller chooses for their page: `/sellers/<slug>`.
public enum SellerSlug {
    /// Lower-cased and trimmed; nil when blank (the page goes back to its id address). Throws
    /// `validationFailed` (field `slug`) unless it is 3–40 letters a–z, digits and inner hyphens.
    /// Ids carry an underscore (`usr_…`), so no slug is ever mistaken for one.
    public static func normalize(_ raw: String?) throws -> String? {
        let slug = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if slug.isEmpty { return nil }
        let allowed = slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard (3...40).contains(slug.count), allowed, !slug.hasPrefix("-"), !slug.hasSuffix("-") else {
            throw SoukError.validation(
                "slug", "Use 3 to 40 letters (a–z), digits and hyphens, starting and ending with a letter or digit, like moth-press.")
        }
        return slug
    }

    /// The seller's page: at the chosen address, or by id until they choose one.
    public static func pagePath(for seller: User) -> String {
        "/sellers/" + (seller.slug ?? seller.id)
    }
}
