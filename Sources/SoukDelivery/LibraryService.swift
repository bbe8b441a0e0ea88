import Foundation
import SoukCore
import SoukDatabase

/// What a buyer's purchases give them, and who may see what: the library, the files a
/// signed link may fetch and how much of them (`DownloadBudget`), the private pages, and the
/// download log of a product (its seller's, or an admin's).
public struct LibraryService: Sendable {
    let database: AppDatabase
    /// Downloads per purchase when a product sets none (`[delivery] download_limit`; 0: unlimited).
    let defaultDownloadLimit: Int

    public init(database: AppDatabase, defaultDownloadLimit: Int) {
        self.database = database
        self.defaultDownloadLimit = defaultDownloadLimit
    }

    /// Every product `user` holds an active grant for, newest purchase first.
    public func entries(for user: User) async throws -> [LibraryEntry] {
        try await database.library(userID: user.id, defaultDownloadLimit: defaultDownloadLimit)
    }

    /// A page of the buyer's purchases (see `AppDatabase.library(userID:defaultDownloadLimit:from:limit:)`).
    public func entries(for user: User, from position: AppDatabase.ListPosition?, limit: Int) async throws
        -> (entries: [LibraryEntry], from: AppDatabase.ListPosition?)
    {
        try await database.library(userID: user.id, defaultDownloadLimit: defaultDownloadLimit, from: position, limit: limit)
    }

    // MARK: Downloads

    /// What a signed download link may fetch: a file of the product its grant bought, while the
    /// grant is active. `forbidden` once the purchase was refunded or lost in a dispute, `notFound`
    /// for a file of another product.
    public func downloadable(grantID: String, fileID: String) async throws
        -> (grant: AccessGrant, file: ProductFile, downloadLimit: Int)
    {
        guard let grant = try await database.activeGrant(id: grantID) else {
            throw SoukError(.forbidden, "This purchase no longer gives access to its files (it was refunded or disputed).")
        }
        guard let file = try await database.file(id: fileID), file.productID == grant.productID,
            let product = try await database.productIncludingDeleted(id: grant.productID)
        else {
            throw SoukError.notFound("The file \(fileID)")
        }
        return (grant, file, product.downloadLimit ?? defaultDownloadLimit)
    }

    /// Reserves the bytes a request will be served against the purchase's budget (see
    /// `AppDatabase.reserveDownload`); `forbidden` past the limit.
    public func reserve(
        _ grant: AccessGrant, file: ProductFile, limit: Int, fileSize: Int64, range: ClosedRange<Int64>?, ip: String?,
        userAgent: String?
    ) async throws -> DownloadReservation {
        try await database.reserveDownload(
            grantID: grant.id, fileID: file.id, userID: grant.userID, limit: limit, fileSize: fileSize, range: range,
            ip: ip, userAgent: userAgent)
    }

    /// Records what a transfer wrote, giving back what it did not.
    public func settle(_ reservation: DownloadReservation, sent: Int64) async throws {
        try await database.settleDownload(id: reservation.id, sent: sent)
    }

    /// A product's download log (buyers' e-mails, addresses, user agents): for its seller in good
    /// standing or an admin (`SellerAccess`); anyone else is told the product does not exist, as
    /// everyone is once it is deleted.
    public func downloadLog(productID: String, by user: User, after cursor: String? = nil, limit: Int) async throws
        -> (Product, [DownloadRecord])
    {
        let product = try await database.product(id: productID)
        try SellerAccess.require(sellerID: product?.sellerID ?? "", user: user, notFound: "The product \(productID)")
        guard let product else { throw SoukError.notFound("The product \(productID)") }
        return (product, try await database.downloadLog(productID: product.id, after: cursor, limit: limit))
    }

    // MARK: Private pages

    /// A private page of a product, with its siblings, if `user` may read it: its owner (an active
    /// grant), its seller or an admin. `notFound` otherwise: a page someone does not own looks
    /// exactly like one that does not exist.
    public func page(productID: String, slug: String, for user: User) async throws
        -> (product: Product, page: ProductPage, siblings: [ProductPage])
    {
        let missing = SoukError.notFound("The page \(slug)")
        guard let product = try await database.productIncludingDeleted(id: productID) else { throw missing }
        // Sellers preview their own pages whatever their standing: reading is not selling.
        let isStaff = product.sellerID == user.id || user.role == .admin
        if !isStaff {
            let owned = try await database.libraryEntry(
                userID: user.id, productID: product.id, defaultDownloadLimit: defaultDownloadLimit)
            guard owned != nil else { throw missing }
        }
        guard let page = try await database.page(productID: product.id, slug: slug) else { throw missing }
        return (product, page, try await database.pages(productID: product.id))
    }
}
