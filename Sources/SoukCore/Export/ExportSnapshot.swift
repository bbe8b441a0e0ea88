import Foundation

/// Everything one export holds, read in one transaction: the whole store's data, or one
/// seller's (their products, the orders with their lines, the reviews and license keys of their
/// products, their balances). `StoreExport` turns it into tables.
public struct ExportSnapshot: Sendable {
    /// The seller the export is limited to; nil: the whole store.
    public var sellerID: String?
    public var products: [Product]
    /// Orders with at least one line in scope, with every line (a line's share of the order's
    /// refunds depends on all of them); `StoreExport` writes only the lines in scope.
    public var orders: [Order]
    public var reviews: [Review]
    public var licenses: [LicenseKey]
    /// `Payouts.balances` of the same lines, in scope.
    public var balances: [SellerBalance]
    /// The accounts the rows mention (sellers, buyers), by id.
    public var accounts: [String: ExportAccount]
    /// When it was read: license statuses (expiry) are as of then.
    public var takenAt: Date

    public init(
        sellerID: String?, products: [Product], orders: [Order], reviews: [Review], licenses: [LicenseKey],
        balances: [SellerBalance], accounts: [String: ExportAccount], takenAt: Date
    ) {
        self.sellerID = sellerID
        self.products = products
        self.orders = orders
        self.reviews = reviews
        self.licenses = licenses
        self.balances = balances
        self.accounts = accounts
        self.takenAt = takenAt
    }
}

/// An account's name and e-mail as an export shows them.
public struct ExportAccount: Sendable, Equatable {
    public var name: String
    public var email: String

    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }
}
