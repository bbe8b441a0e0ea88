import Foundation
import SoukCore

#if canImport(Glibc)
    import Glibc
    private let posixWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin
    private let posixWrite = Darwin.write
#endif

/// "Sends" mail by writing it to `<outbox>/<yyyyMMdd-HHmmss>-<message id>.eml` (UTC, from the
/// message's date), for stores without SMTP and for tests. Each file is written to a temporary
/// name, flushed, then renamed into place, so a reader never sees half a message. Writing a message
/// ID again replaces its file, so a retried e-mail stays one file; when the dates differ, the copy
/// with the latest date is kept.
public struct OutboxMailer: Mailer {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func send(_ message: MailMessage) async throws {
        _ = try write(message)
    }

    /// Writes the message and returns the path of the message ID's file.
    @discardableResult
    public func write(_ message: MailMessage) throws -> String {
        let data = try message.renderedData()
        let suffix = "-" + Self.fileName(forMessageID: message.bareMessageID) + ".eml"
        let name = Self.timestamp(message.date) + suffix
        let path = (directory as NSString).appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MailError(.outbox, "Cannot create the outbox folder \(directory): \(error.localizedDescription).")
        }
        let temporary = (directory as NSString).appendingPathComponent(".\(UUID().uuidString).eml.tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("create", temporary) }
        let written = data.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = posixWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return -1
                }
                offset += n
            }
            return offset
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced else {
            let error = Self.failure("write", temporary)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = Self.failure("rename into", path)
            unlink(temporary)
            throw error
        }
        // One file per message ID: when copies under other dates exist, the latest date wins
        // (names sort by date), so two writers racing still leave exactly one file.
        var result = path
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            let copies = names.filter { $0.hasSuffix(suffix) && $0.count == name.count && !$0.hasPrefix(".") }
            if let newest = copies.max(), newest != name {
                result = (directory as NSString).appendingPathComponent(newest)
            }
            for other in copies where other != (result as NSString).lastPathComponent {
                unlink((directory as NSString).appendingPathComponent(other))
            }
        }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
        return result
    }

    /// `yyyyMMdd-HHmmss` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ n: Int?, _ width: Int) -> String {
            let s = String(n ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "-" + pad(c.hour, 2) + pad(c.minute, 2)
            + pad(c.second, 2)
    }

    /// The message ID as a safe file name part: letters, digits and `.-_+@` kept, anything else
    /// `_`, at most 120 characters. When that changed the ID, a short hash of the original is
    /// appended so two different IDs do not share a file.
    public static func fileName(forMessageID id: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+@".unicodeScalars)
        var safe = String(String.UnicodeScalarView(id.unicodeScalars.map { allowed.contains($0) ? $0 : "_" }))
        if safe.hasPrefix(".") { safe = "_" + safe.dropFirst() }
        if safe.count > 120 { safe = String(safe.prefix(120)) }
        if safe != id || safe.isEmpty {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
            for byte in id.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            safe += "_" + String(String(hash, radix: 16).suffix(8))
        }
        return safe
    }

    static func failure(_ action: String, _ path: String) -> MailError {
        MailError(.outbox, "Cannot \(action) \(path): \(String(cString: strerror(errno))). Check the outbox folder's permissions and free space.")
    }
}
