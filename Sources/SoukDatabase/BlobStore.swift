import Crypto
import Foundation
import SoukCore

#if canImport(Glibc)
    import Glibc
#endif

/// Content-addressed file storage under `<data_dir>/blobs`: a file's path is derived from its
/// SHA-256 (`ab/cd/abcd…`), never from anything a client sent, so names cannot traverse paths
/// and identical uploads are stored once.
public struct BlobStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// The stored file for a digest. Throws `notFound` for anything that is not a 64-hex digest.
    public func path(sha256: String) throws -> String {
        guard sha256.count == 64, sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw SoukError.notFound("The blob")
        }
        let a = sha256.prefix(2), b = sha256.dropFirst(2).prefix(2)
        return "\(root)/\(a)/\(b)/\(sha256)"
    }

    public func exists(sha256: String) -> Bool {
        (try? path(sha256: sha256)).map { FileManager.default.fileExists(atPath: $0) } ?? false
    }

    /// Starts a streamed upload into a temp file under `blobs/tmp`, refusing to grow past `maxBytes`.
    public func beginUpload(maxBytes: Int64) throws -> BlobUpload {
        let temporaryFolder = "\(root)/tmp"
        try FileManager.default.createDirectory(atPath: temporaryFolder, withIntermediateDirectories: true)
        return try BlobUpload(store: self, temporaryPath: "\(temporaryFolder)/\(RandomText.base32(byteCount: 12)).part", maxBytes: maxBytes)
    }
}

/// What `BlobUpload.finish()` stored.
public struct StoredBlob: Sendable, Equatable {
    public var sha256: String
    public var size: Int64
}

/// One upload in progress: bytes go to a temp file and into the SHA-256 as they arrive; `finish`
/// syncs and renames atomically into place; `abort` (or a failure) leaves nothing behind.
public final class BlobUpload {
    private let store: BlobStore
    private let temporaryPath: String
    private let maxBytes: Int64
    private var descriptor: Int32
    private var hasher = SHA256()
    public private(set) var size: Int64 = 0

    init(store: BlobStore, temporaryPath: String, maxBytes: Int64) throws {
        self.store = store
        self.temporaryPath = temporaryPath
        self.maxBytes = maxBytes
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SoukError(.internalError, "Cannot create \(temporaryPath): \(String(cString: strerror(errno))).")
        }
    }

    deinit { abort() }

    /// Appends bytes. Throws `payloadTooLarge` (and removes the temp file) past the limit.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard descriptor >= 0 else { return }
        size += Int64(bytes.count)
        guard size <= maxBytes else {
            abort()
            throw SoukError(.payloadTooLarge, "The file is larger than the upload limit of \(maxBytes / 1_048_576) MiB.")
        }
        hasher.update(bufferPointer: bytes)
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                let failure = errno
                abort()
                throw Self.writeFailure(failure, doing: "Writing an upload")
            }
            offset += written
        }
    }

    /// Makes the file durable and moves it to its content address.
    public func finish() throws -> StoredBlob {
        guard descriptor >= 0 else { throw SoukError(.internalError, "The upload was already closed.") }
        let digest = Hex.encode(hasher.finalize())
        guard fsync(descriptor) == 0 else {
            let failure = errno
            abort()
            throw Self.writeFailure(failure, doing: "Saving an upload")
        }
        close(descriptor)
        descriptor = -1
        let destination = try store.path(sha256: digest)
        try FileManager.default.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // rename(2) is atomic: readers see no file or the whole file. Same content, same name:
        // replacing an identical blob is harmless.
        guard rename(temporaryPath, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw SoukError(.internalError, "Storing an upload failed: \(reason).")
        }
        return StoredBlob(sha256: digest, size: size)
    }

    /// A failed write as the uploader should see it: a full disk (or quota) is the operator's to
    /// fix and the upload may be retried afterwards (507), anything else is an internal error.
    static func writeFailure(_ failure: Int32, doing action: String) -> SoukError {
        let reason = String(cString: strerror(failure))
        if failure == ENOSPC || failure == EDQUOT {
            return SoukError(
                .insufficientStorage,
                "\(action) failed: the store's disk is full (\(reason)). Nothing was kept; try again once the operator has freed space.")
        }
        return SoukError(.internalError, "\(action) failed: \(reason).")
    }

    /// Discards the upload.
    public func abort() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
            unlink(temporaryPath)
        }
    }
}
