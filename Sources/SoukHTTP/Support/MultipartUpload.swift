import Hummingbird
import MultipartKit
import NIOCore
import SoukAuth
import SoukCore
import SoukDatabase

/// Reads the dashboard's upload form (`multipart/form-data`, so it works without JavaScript) as
/// it streams in: the `_csrf` field first, then one `file` part written straight to the blob
/// store as it arrives — never held in memory, limited like the API upload.
///
/// The CSRF middleware cannot read this body up front (it may be gigabytes), so the token is
/// checked here, from the form's first field, before a single byte of the file is stored: a
/// file part that comes before a valid token is refused.
struct MultipartUpload {
    static let tokenField = CSRFMiddleware.fieldName
    static let fileField = "file"
    /// Headers, preamble and small fields: past this many bytes without a parsed piece the form
    /// is malformed (MultipartKit would otherwise keep growing one header).
    static let maxStallBytes = 64 * 1024

    let boundary: String
    let csrfToken: String
    let blobs: BlobStore
    let maxBytes: Int64

    /// The `boundary` parameter of a `multipart/form-data` content type.
    static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        let parameters = HeaderParameters(contentType)
        guard let boundary = parameters["boundary"], !boundary.isEmpty, boundary.count <= 200 else { return nil }
        return boundary
    }

    /// Streams the form. `name` checks and cleans the file's name (before its bytes are stored).
    /// Returns the cleaned name and the stored blob.
    func receive(_ body: RequestBody, name: @escaping (String) throws -> String) async throws -> (
        name: String, blob: StoredBlob
    ) {
        let parser = MultipartParser(boundary: boundary)
        let state = State()
        parser.onHeader = { header, value in
            state.stalled = 0
            state.headers += 1
            guard state.headers <= 16, value.utf8.count <= 8 * 1024 else {
                state.failure = state.failure ?? Self.malformed
                return
            }
            guard header.lowercased() == "content-disposition" else { return }
            let parameters = HeaderParameters(value)
            state.field = parameters["name"]
            state.filename = parameters["filename"]
        }
        parser.onBody = { buffer in
            state.stalled = 0
            guard state.failure == nil else { return }
            do { try state.take(&buffer, self, name) } catch { state.failure = error }
        }
        parser.onPartComplete = {
            state.stalled = 0
            guard state.failure == nil else { return }
            do { try state.complete(self, name) } catch { state.failure = error }
            state.field = nil
            state.filename = nil
            state.headers = 0
        }
        var total: Int64 = 0
        do {
            for try await chunk in body {
                total += Int64(chunk.readableBytes)
                // The file may use all of max_upload_mb; the rest of the form is a few hundred bytes.
                guard total <= maxBytes + 64 * 1024 else {
                    throw SoukError(.payloadTooLarge, "The upload limit is \(maxBytes / 1_048_576) MiB.")
                }
                var rest = chunk
                while rest.readableBytes > 0, state.failure == nil {
                    let piece = rest.readSlice(length: min(rest.readableBytes, 16 * 1024))!
                    state.stalled += piece.readableBytes
                    do { try parser.execute(piece) } catch { throw Self.malformed }
                    if state.stalled > Self.maxStallBytes { throw Self.malformed }
                }
                if let failure = state.failure { throw failure }
            }
            if let failure = state.failure { throw failure }
            guard let upload = state.upload, let cleanedName = state.cleanedName, state.fileComplete else {
                if !state.tokenChecked { throw Self.csrfFailed }
                if state.upload != nil { throw SoukError(.badRequest, "The form ended before the file did. Try again.") }
                throw SoukError.validation(Self.fileField, "Choose a file to upload.")
            }
            // Stored only now, once the whole form arrived intact: a failure anywhere before
            // leaves nothing behind.
            let blob = try upload.finish()
            state.upload = nil
            return (cleanedName, blob)
        } catch {
            state.upload?.abort()
            throw error
        }
    }

    static let malformed = SoukError(.badRequest, "The upload form arrived malformed. Reload the page and try again.")
    static let csrfFailed = SoukError(
        .csrfFailed, "This form has expired or came from another site. Reload the page and try again.")

    /// What the parser's callbacks have seen so far.
    private final class State {
        var field: String?
        var filename: String?
        var headers = 0
        var token: [UInt8] = []
        var tokenChecked = false
        var upload: BlobUpload?
        var fileComplete = false
        var cleanedName: String?
        var failure: (any Error)?
        var stalled = 0
        static let writeSize = 256 * 1024
        private var pending: [UInt8] = []

        private func flush() throws {
            guard !pending.isEmpty else { return }
            try pending.withUnsafeBytes { try upload!.write($0) }
            pending.removeAll(keepingCapacity: true)
        }

        func take(_ buffer: inout ByteBuffer, _ form: MultipartUpload, _ name: (String) throws -> String) throws {
            switch field {
            case MultipartUpload.tokenField:
                token += buffer.readableBytesView
                guard token.count <= 256 else { throw MultipartUpload.csrfFailed }
            case MultipartUpload.fileField:
                try begin(form, name)
                // The parser hands over the body between carriage returns (a few hundred bytes
                // of binary at a time): gather them so the disk sees large writes.
                pending.append(contentsOf: buffer.readableBytesView)
                if pending.count >= Self.writeSize { try flush() }
            default:
                break  // fields the form does not have are ignored
            }
        }

        func complete(_ form: MultipartUpload, _ name: (String) throws -> String) throws {
            switch field {
            case MultipartUpload.tokenField:
                guard ConstantTime.equal(String(decoding: token, as: UTF8.self), form.csrfToken) else {
                    throw MultipartUpload.csrfFailed
                }
                tokenChecked = true
            case MultipartUpload.fileField:
                // A browser sends an empty, unnamed part when no file was chosen.
                if upload == nil, (filename ?? "").isEmpty { return }
                try begin(form, name)
                try flush()
                fileComplete = true
            default:
                break
            }
        }

        /// The first bytes of the file part: the token must have been checked, the name must pass.
        private func begin(_ form: MultipartUpload, _ name: (String) throws -> String) throws {
            guard !fileComplete else { throw SoukError(.badRequest, "Upload one file at a time.") }
            guard upload == nil else { return }
            guard tokenChecked else { throw MultipartUpload.csrfFailed }
            cleanedName = try name(filename ?? "")
            upload = try form.blobs.beginUpload(maxBytes: form.maxBytes)
            pending.reserveCapacity(Self.writeSize + 16 * 1024)
        }
    }
}

/// `key=value` parameters of a header such as `form-data; name="file"; filename="a b.pdf"`
/// (keys lower-cased, quotes removed). Browsers send form-data names as the HTML standard says:
/// a backslash as itself, and `"`, CR and LF percent-encoded — so no backslash escapes here, and
/// those three are decoded.
struct HeaderParameters {
    private var values: [String: String] = [:]

    init(_ header: String) {
        var key = "", value = "", inKey = false, inQuotes = false, sawEquals = false, valueStarted = false
        func flush() {
            let trimmedKey = key.trimmingCharacters(in: .whitespaces).lowercased()
            if sawEquals, !trimmedKey.isEmpty, values[trimmedKey] == nil {
                values[trimmedKey] = value.trimmingCharacters(in: .whitespaces)
                    .replacingOccurrences(of: "%22", with: "\"").replacingOccurrences(of: "%0D", with: "\r")
                    .replacingOccurrences(of: "%0A", with: "\n")
            }
            key = ""; value = ""; sawEquals = false; valueStarted = false; inKey = true
        }
        // The first item (the type itself) has no `=`; parameters follow each `;`.
        for character in header {
            if inQuotes {
                if character == "\"" { inQuotes = false } else { value.append(character) }
            } else if character == ";" {
                flush()
            } else if inKey && !sawEquals && character == "=" {
                sawEquals = true
            } else if sawEquals {
                if character == "\"" && !valueStarted {
                    inQuotes = true
                    valueStarted = true
                } else {
                    if !character.isWhitespace { valueStarted = true }
                    value.append(character)
                }
            } else if inKey {
                key.append(character)
            }
        }
        flush()
    }

    subscript(_ key: String) -> String? { values[key] }
}
