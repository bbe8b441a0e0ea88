import Foundation
import GRDB
import SoukCore

#if canImport(Glibc)
    import Glibc
#endif

/// What `backup(to:)` wrote, for the operator.
public struct BackupReport: Sendable, Codable {
    public var path: String
    public var bytes: Int
    public var users: Int
    public var products: Int
    public var orders: Int
    public var files: Int
    public var seconds: Double
}

extension AppDatabase {
    public enum BackupError: Error, CustomStringConvertible {
        case exists(String)
        case sameFile(String)
        case unwritable(String, String)
        case corrupt(String, String)

        public var description: String {
            switch self {
            case .exists(let path): "\(path) already exists. Choose a new file name, or pass --force to replace it."
            case .sameFile(let path): "\(path) is the live database itself. Back up to another file."
            case .unwritable(let path, let reason): "Cannot write the backup to \(path): \(reason)."
            case .corrupt(let path, let reason):
                "The copy at \(path) failed SQLite's integrity check (\(reason)); it was removed. Check the disk, then run souk backup again."
            }
        }
    }

    /// Copies the database to `path` while the store keeps serving: SQLite's online backup
    /// reads one consistent snapshot (a read transaction, so writers carry on under WAL). The
    /// copy is written beside `path`, checked with `PRAGMA quick_check`, made private (0600: it
    /// holds password and session hashes), synced, and only then renamed into place — a failed
    /// or interrupted backup never leaves a half-written file under the requested name.
    public func backup(to path: String, replacing: Bool = false) throws -> BackupReport {
        let start = Date()
        let target = URL(fileURLWithPath: path).standardizedFileURL
        let live = URL(fileURLWithPath: writer.path).standardizedFileURL.resolvingSymlinksInPath().path
        // The live file or its WAL, shared memory or journal, by any path (symlink, hard link,
        // bind mount): replacing one would lose or corrupt the store.
        let resolved = target.resolvingSymlinksInPath().path
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if resolved == live + suffix || Self.sameInode(target.path, live + suffix) {
                throw BackupError.sameFile(target.path)
            }
        }
        if FileManager.default.fileExists(atPath: target.path) && !replacing { throw BackupError.exists(target.path) }
        // A name of its own, so two backups to the same target never touch each other's files.
        let partial = target.path + ".partial-" + RandomText.base32(byteCount: 6)
        // Created private before SQLite writes a byte of it.
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw BackupError.unwritable(target.path, String(cString: strerror(errno))) }
        close(fd)

        var counts = (users: 0, products: 0, orders: 0, files: 0)
        do {
            var configuration = Configuration()
            configuration.journalMode = .default
            let copy = try DatabaseQueue(path: partial, configuration: configuration)
            try writer.backup(to: copy)
            try copy.writeWithoutTransaction { db in
                // The copy keeps the live file's WAL flag; a single-file rollback journal suits a
                // file meant to be moved around.
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                guard check == ["ok"] else { throw BackupError.corrupt(target.path, check.prefix(3).joined(separator: "; ")) }
                counts = (
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM products") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM orders") ?? 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM product_files") ?? 0
                )
            }
            try copy.close()
            try Self.sync(partial)
            guard rename(partial, target.path) == 0 else {
                throw BackupError.unwritable(target.path, String(cString: strerror(errno)))
            }
            try Self.sync(target.deletingLastPathComponent().path)
        } catch {
            for leftover in [partial, partial + "-journal"] { try? FileManager.default.removeItem(atPath: leftover) }
            if let error = error as? BackupError { throw error }
            throw BackupError.unwritable(target.path, "\(error)")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: target.path))?[.size] as? Int ?? 0
        return BackupReport(
            path: target.path, bytes: bytes, users: counts.users, products: counts.products, orders: counts.orders,
            files: counts.files, seconds: Date().timeIntervalSince(start))
    }

    private static func sameInode(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// fsync a file or a folder (so a rename inside it is durable).
    private static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BackupError.unwritable(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw BackupError.unwritable(path, String(cString: strerror(errno))) }
    }
}
