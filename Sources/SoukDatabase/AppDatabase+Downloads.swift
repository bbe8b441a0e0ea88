import Foundation
import GRDB
import SoukCore

/// A request's share of a purchase's download budget, reserved before its first byte is sent.
public struct DownloadReservation: Sendable, Equatable {
    /// The `downloads` row, to settle when the transfer ends.
    public var id: String
    /// The bytes to serve: nil for the whole file (a 200), else the range, possibly clamped to
    /// the budget left (a 206 with that `Content-Range`).
    public var range: ClosedRange<Int64>?
    /// The bytes reserved (the length of what is served).
    public var reserved: Int64
    /// The budget once this reservation is charged.
    public var budget: DownloadBudget
}

/// Downloads counted in bytes served (`DownloadBudget`): one `downloads` row per request that
/// sends content, charged `COALESCE(sent, reserved) - credited` bytes.
extension AppDatabase {
    /// Reserves what a request for `range` (nil: the whole file) may be served of `fileID` under
    /// `grantID`, in one transaction against the budget of `limit` × `fileSize` bytes, so parallel
    /// requests cannot overspend. First, if the request resumes a transfer that was cut short,
    /// that transfer is credited back the bytes the client asks again. Logs the request (IP, user
    /// agent). Throws `forbidden` with the reason when the budget does not allow it.
    public func reserveDownload(
        grantID: String, fileID: String, userID: String, limit: Int, fileSize: Int64, range: ClosedRange<Int64>?,
        ip: String?, userAgent: String?
    ) async throws -> DownloadReservation {
        let now = clock.now()
        let id = ids.make(.download)
        return try await writer.write { db in
            if !DownloadBudget(limit: limit, fileSize: fileSize, charged: 0).isUnlimited {
                try Self.creditResumedTransfer(
                    grantID: grantID, fileID: fileID, fileSize: fileSize, resumingAt: range?.lowerBound ?? 0, in: db)
            }
            var budget = try Self.downloadBudget(grantID: grantID, fileID: fileID, limit: limit, fileSize: fileSize, in: db)
            let served: ClosedRange<Int64>?
            switch budget.decide(range) {
            case .refuse(let reason): throw SoukError(.forbidden, reason)  // rolls the credit back too
            case .serve(let decided): served = decided
            }
            let first = served?.lowerBound ?? 0
            let reserved = served.map { $0.upperBound - $0.lowerBound + 1 } ?? fileSize
            try DownloadRow(
                id: id, grantID: grantID, fileID: fileID,
                productID: try String.fetchOne(
                    db.cachedStatement(sql: "SELECT product_id FROM product_files WHERE id = ?"), arguments: [fileID]),
                userID: userID, ip: ip,
                userAgent: userAgent.map { String($0.prefix(500)) }, createdAt: now, firstByte: first, reserved: reserved,
                sent: nil, credited: 0, resumed: false
            ).insert(db)
            budget.charged += reserved
            return DownloadReservation(id: id, range: served, reserved: reserved, budget: budget)
        }
    }

    /// Records how many bytes a transfer wrote when it ended. Fewer than reserved (the client
    /// went away) gives the rest back to the budget.
    public func settleDownload(id: String, sent: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE downloads SET sent = min(?, reserved) WHERE id = ? AND sent IS NULL", arguments: [sent, id])
        }
    }

    /// The budget of one file under one grant: what its transfers were charged so far.
    public func downloadBudget(grantID: String, fileID: String, limit: Int, fileSize: Int64) async throws -> DownloadBudget {
        try await writer.read { db in
            try Self.downloadBudget(grantID: grantID, fileID: fileID, limit: limit, fileSize: fileSize, in: db)
        }
    }

    static func downloadBudget(grantID: String, fileID: String, limit: Int, fileSize: Int64, in db: Database) throws
        -> DownloadBudget
    {
        let charged =
            try Int64.fetchOne(
                db,
                sql: "SELECT SUM(COALESCE(sent, reserved) - credited) FROM downloads WHERE grant_id = ? AND file_id = ?",
                arguments: [grantID, fileID]) ?? 0
        return DownloadBudget(limit: limit, fileSize: fileSize, charged: charged)
    }

    /// If a request starting at `start` resumes one of the latest transfers of this file that
    /// were cut short, credits that transfer what it wrote from `start` on (`DownloadBudget.resumeCredit`,
    /// capped so all credits stay within one file's size). A transfer is resumed at most once,
    /// even when its resume asks nothing again and is credited nothing.
    private static func creditResumedTransfer(
        grantID: String, fileID: String, fileSize: Int64, resumingAt start: Int64, in db: Database
    ) throws {
        let credited =
            try Int64.fetchOne(
                db, sql: "SELECT SUM(credited) FROM downloads WHERE grant_id = ? AND file_id = ?",
                arguments: [grantID, fileID]) ?? 0
        let cutShort = try Row.fetchAll(
            db,
            sql: """
                SELECT id, first_byte, sent FROM downloads
                WHERE grant_id = ? AND file_id = ? AND sent IS NOT NULL AND sent < reserved AND NOT resumed
                ORDER BY created_at DESC, rowid DESC LIMIT 32
                """, arguments: [grantID, fileID])
        for row in cutShort {
            let transfer = DownloadBudget.InterruptedTransfer(firstByte: row["first_byte"], sent: row["sent"])
            guard
                let credit = DownloadBudget.resumeCredit(
                    of: transfer, resumingAt: start, creditLeft: fileSize - credited)
            else { continue }
            try db.execute(
                sql: "UPDATE downloads SET credited = ?, resumed = 1 WHERE id = ?", arguments: [credit, row["id"] as String])
            return
        }
    }
}
