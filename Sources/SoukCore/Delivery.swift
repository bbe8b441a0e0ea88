import Foundation

/// What a license key answers to the license API and shows in the library.
public enum LicenseStatus: String, Sendable, Codable, CaseIterable {
    /// In use on at least one instance.
    case active
    /// Valid, but not activated anywhere yet (or every seat was freed).
    case inactive
    /// Past its `expires_at`.
    case expired
    /// Turned off by the seller.
    case disabled
    /// Taken back by a refund or a lost dispute.
    case revoked

    /// Whether the key may be used (activated, validated as valid).
    public var isUsable: Bool { self == .active || self == .inactive }
}

public struct LicenseActivation: Sendable, Equatable {
    public var id: String
    public var instanceName: String
    public var createdAt: Date

    public init(id: String, instanceName: String, createdAt: Date) {
        self.id = id
        self.instanceName = instanceName
        self.createdAt = createdAt
    }
}

public struct LicenseKey: Sendable, Equatable {
    public enum StoredStatus: String, Sendable { case active, disabled, revoked }

    public var id: String
    public var key: String
    public var grantID: String
    public var orderID: String
    public var productID: String
    public var userID: String
    public var storedStatus: StoredStatus
    /// Seats; nil: unlimited. A product's `activation_limit` of 0 means unlimited too, so a
    /// stored 0 reads as nil (see `init`): every caller sees one form of "unlimited".
    public var activationLimit: Int?
    public var expiresAt: Date?
    public var createdAt: Date
    /// Current (not deactivated) activations, oldest first.
    public var activations: [LicenseActivation]

    public init(
        id: String, key: String, grantID: String, orderID: String, productID: String, userID: String,
        storedStatus: StoredStatus, activationLimit: Int?, expiresAt: Date?, createdAt: Date, activations: [LicenseActivation]
    ) {
        self.id = id
        self.key = key
        self.grantID = grantID
        self.orderID = orderID
        self.productID = productID
        self.userID = userID
        self.storedStatus = storedStatus
        self.activationLimit = Self.seats(activationLimit)
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.activations = activations
    }

    public var activationUsage: Int { activations.count }

    /// A product's `activation_limit` as a key's seats: nil or 0 is unlimited (nil).
    public static func seats(_ activationLimit: Int?) -> Int? {
        guard let activationLimit, activationLimit > 0 else { return nil }
        return activationLimit
    }

    /// Whether one more instance may be activated (always, when unlimited).
    public var hasFreeSeat: Bool {
        guard let activationLimit else { return true }
        return activationUsage < activationLimit
    }

    public func status(at now: Date) -> LicenseStatus {
        switch storedStatus {
        case .revoked: return .revoked
        case .disabled: return .disabled
        case .active:
            if let expiresAt, expiresAt <= now { return .expired }
            return activations.isEmpty ? .inactive : .active
        }
    }
}

/// License keys: unguessable (125 random bits), readable (no 0/O, 1/I/L), grouped for typing.
public enum LicenseKeyFormat {
    private static let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")  // 31 symbols

    /// `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<25).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return stride(from: 0, to: 25, by: 5).map { String(characters[$0..<$0 + 5]) }.joined(separator: "-")
    }

    /// What a buyer typed, as stored: upper case, spaces trimmed. Nil when it cannot be a key.
    public static func normalize(_ raw: String) -> String? {
        let key = raw.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        guard (1...64).contains(key.count), key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            return nil
        }
        return key
    }
}

/// An in-app notification.
public struct UserNotification: Sendable, Equatable {
    /// The stream's event id: increasing in the order notifications were stored.
    public var seq: Int64
    public var id: String
    public var userID: String
    public var type: String
    public var title: String
    public var body: String
    public var url: String?
    public var createdAt: Date
    public var readAt: Date?

    public init(
        seq: Int64, id: String, userID: String, type: String, title: String, body: String, url: String?, createdAt: Date,
        readAt: Date?
    ) {
        self.seq = seq
        self.id = id
        self.userID = userID
        self.type = type
        self.title = title
        self.body = body
        self.url = url
        self.createdAt = createdAt
        self.readAt = readAt
    }
}

/// One product a buyer owns, as the library shows it.
public struct LibraryEntry: Sendable, Equatable {
    public struct File: Sendable, Equatable {
        public var file: ProductFile
        /// Whole downloads left under this grant (`DownloadBudget.downloadsLeft`); nil: unlimited.
        public var downloadsLeft: Int?

        public init(file: ProductFile, downloadsLeft: Int?) {
            self.file = file
            self.downloadsLeft = downloadsLeft
        }
    }

    public var grantID: String
    public var orderID: String
    /// The order's number as people read it ("#1042").
    public var orderNumber: String
    public var product: Product
    public var files: [File]
    public var licenseKeys: [LicenseKey]
    public var pages: [ProductPage]
    public var purchasedAt: Date

    public init(
        grantID: String, orderID: String, product: Product, files: [File], licenseKeys: [LicenseKey], pages: [ProductPage],
        purchasedAt: Date, orderNumber: String? = nil
    ) {
        self.grantID = grantID
        self.orderID = orderID
        self.orderNumber = orderNumber ?? orderID
        self.product = product
        self.files = files
        self.licenseKeys = licenseKeys
        self.pages = pages
        self.purchasedAt = purchasedAt
    }
}

/// Job kinds of the delivery path.
/// What an `email` job sends; the message is composed when the job runs (with a fresh sign-in
/// link), so a retried job never sends a stale link.
public struct MailJob: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// The receipt of a paid order (items, amounts, license keys, a link to the library).
        case receipt
        /// A product the user owns has a new file version.
        case fileUpdate = "file_update"
        /// A notification the user gets by e-mail too (`Notice.email`, unless muted).
        case notification
        /// "Forgot password": a link that sets a new password once, within an hour.
        case passwordReset = "password_reset"
        /// "E-mail me a sign-in link": a link that signs the user in once, within an hour.
        case signInLink = "sign_in_link"
        /// A new e-mail address to confirm: the link goes to that address, and works for a day.
        case emailChange = "email_change"
    }

    public var kind: Kind
    public var orderID: String?
    public var userID: String?
    public var fileID: String?
    public var notificationID: String?

    public init(
        kind: Kind, orderID: String? = nil, userID: String? = nil, fileID: String? = nil, notificationID: String? = nil
    ) {
        self.kind = kind
        self.orderID = orderID
        self.userID = userID
        self.fileID = fileID
        self.notificationID = notificationID
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case orderID = "order_id"
        case userID = "user_id"
        case fileID = "file_id"
        case notificationID = "notification_id"
    }
}

public enum DeliveryJobKind {
    /// Send one e-mail (payload `MailJob`).
    public static let email = "email"
    /// Tell every owner of a product about a new file version.
    public static let fileUpdateNotice = "file_update_notice"
}
