import Foundation
import GRDB

/// A row of `downloads`: one request that sent content, with what it was charged
/// (`COALESCE(sent, reserved) - credited` bytes, see `DownloadBudget`). (`DownloadRow`, because
/// the public value of the seller's log is named `DownloadRecord`.)
struct DownloadRow: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "downloads"
    var id: String
    var grantID: String
    var fileID: String
    /// The file's product (for the product's log; set from the file when the row is written).
    var productID: String?
    var userID: String
    var ip: String?
    var userAgent: String?
    var createdAt: Date
    /// The first byte served.
    var firstByte: Int64
    /// The length reserved before sending.
    var reserved: Int64
    /// Bytes written when the transfer ended; nil while it runs.
    var sent: Int64?
    /// Bytes credited back because a later request resumed this transfer.
    var credited: Int64
    /// A later request resumed this transfer (credited or not); it is never resumed again.
    var resumed: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, ip, reserved, sent, credited, resumed
        case grantID = "grant_id"
        case fileID = "file_id"
        case productID = "product_id"
        case userID = "user_id"
        case userAgent = "user_agent"
        case createdAt = "created_at"
        case firstByte = "first_byte"
    }
}
