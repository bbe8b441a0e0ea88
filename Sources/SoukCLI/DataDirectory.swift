import Foundation
import SoukCore
import SoukDatabase

#if canImport(Glibc)
    import Glibc
#endif

/// The data folder: `souk.db` (+ WAL files), `blobs/`, `outbox/`, `secret.key`, optional `theme/`.
public struct DataDirectory: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var databasePath: String { file("souk.db") }
    public var secretKeyPath: String { file("secret.key") }
    public var themePath: String { file("theme") }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Creates the folders if missing and returns the server secret, generating it on first use.
    public func prepare() throws -> [UInt8] {
        do {
            for folder in [path, file("blobs"), file("outbox")] {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
        } catch {
            throw SetupError(description: "Cannot create the data folder \(path): \(error.localizedDescription). Check storage.data_dir and the folder's permissions.")
        }
        return try secretKey()
    }

    /// Reads `secret.key` (64 hex characters), creating it with mode 0600 if it does not exist.
    /// O_EXCL makes two processes starting at once agree on one key.
    func secretKey() throws -> [UInt8] {
        let fd = open(secretKeyPath, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd >= 0 {
            let hex = Hex.encode(RandomText.bytes(32)) + "\n"
            let written = hex.withCString { write(fd, $0, strlen($0)) }
            fsync(fd)
            close(fd)
            guard written == hex.utf8.count else {
                throw SetupError(description: "Cannot write \(secretKeyPath): disk full or read-only?")
            }
        } else if errno != EEXIST {
            throw SetupError(description: "Cannot create \(secretKeyPath): \(String(cString: strerror(errno))).")
        }
        guard let text = try? String(contentsOfFile: secretKeyPath, encoding: .utf8) else {
            throw SetupError(description: "Cannot read \(secretKeyPath). Check its owner and permissions (0600).")
        }
        let hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex),
            let byte = UInt8(hex[index..<next], radix: 16)
        {
            bytes.append(byte)
            index = next
        }
        guard bytes.count >= 32, index == hex.endIndex else {
            throw SetupError(
                description: "\(secretKeyPath) is not a valid key (expected 64 hex characters). Restore it from a backup; deleting it invalidates the links souk has sent (guest order pages, downloads) and open forms."
            )
        }
        return bytes
    }

    public func openDatabase(clock: any WallClock = SystemClock(), searchEngine: SearchEngineKind = .memory) throws
        -> AppDatabase
    {
        try AppDatabase(path: databasePath, clock: clock, searchEngine: searchEngine)
    }
}
