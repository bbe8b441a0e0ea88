import Foundation

/// The download limit counted in bytes served.
///
/// A purchase with a limit of N downloads may be served N × the file's size in bytes, however
/// the client splits them: whole downloads, ranges from any offset, resumes and parallel segments
/// all add the bytes they were sent. 0 is unlimited. Past the budget a request is refused (403).
///
/// - A request without a usable `Range` (a 200 is the whole file) is served only if the whole
///   file fits in what is left.
/// - A `Range` is served while any budget is left, clamped to what is left: the 206 says which
///   bytes came (`Content-Range`), and the client's next request for the rest is refused.
///
/// Bytes are charged (reserved) before the first one is sent, so parallel requests cannot
/// overspend; a transfer cut short is charged only what was written to the connection. What was
/// written but still in flight when a connection dropped never reached the client, so when a
/// request resumes inside the last `resumeSlack` bytes of a transfer that was cut short, that
/// transfer is charged only up to where the resume starts (`resumeCredit`): an interrupted
/// download and its resume count the file once. Those credits never add up to more than one
/// file's size per purchase, so no pattern of cut connections gains more than one copy.
public struct DownloadBudget: Sendable, Equatable {
    /// Whole downloads allowed; 0: unlimited.
    public var limit: Int
    public var fileSize: Int64
    /// Bytes charged so far (every transfer's reservation, less what was credited back).
    public var charged: Int64

    /// How far before the end of what an interrupted transfer wrote a resume may start and
    /// still be taken as its continuation: the bytes a connection can have in flight (socket
    /// buffers both ways and the server's own write-ahead). Linux may let a receive buffer grow to
    /// 32 MiB (`net.ipv4.tcp_rmem` on the CI machine) and a send buffer to 4 MiB: 27.5 MiB were
    /// seen in flight on loopback there. The cap of one file's size on all credits bounds what a
    /// generous slack can give away.
    public static let resumeSlack: Int64 = 64 * 1024 * 1024

    public init(limit: Int, fileSize: Int64, charged: Int64) {
        self.limit = limit
        self.fileSize = fileSize
        self.charged = charged
    }

    public var isUnlimited: Bool { limit <= 0 }

    /// The bytes this purchase may be served in all; nil: unlimited.
    public var total: Int64? { isUnlimited ? nil : Int64(limit) * fileSize }

    /// Bytes left to serve; nil: unlimited.
    public var bytesLeft: Int64? { total.map { max(0, $0 - charged) } }

    /// Whole downloads left (what the library shows): the bytes left over the file's size,
    /// rounded down. nil: unlimited. An empty file costs nothing, so its limit never runs out.
    public var downloadsLeft: Int? {
        guard let bytesLeft else { return nil }
        guard fileSize > 0 else { return limit }
        return Int(bytesLeft / fileSize)
    }

    /// What to serve for a request of `range` (nil: the whole file).
    public enum Decision: Sendable, Equatable {
        /// Serve these bytes (nil: the whole file, as a 200), charging their length.
        case serve(ClosedRange<Int64>?)
        /// Refuse: the limit is reached (or too little is left for a whole file).
        case refuse(String)
    }

    public func decide(_ range: ClosedRange<Int64>?) -> Decision {
        guard let left = bytesLeft else { return .serve(range) }
        guard let range else {
            if fileSize <= left { return .serve(nil) }
            if left == 0 { return .refuse(limitReached) }
            return .refuse(
                "Download limit reached for a whole download: \(left) of this file's \(fileSize) bytes are left under "
                    + "this purchase's limit of \(limit) downloads. Resume your interrupted download to fetch them.")
        }
        guard left > 0 else { return .refuse(limitReached) }
        let length = range.upperBound - range.lowerBound + 1
        return .serve(length <= left ? range : range.lowerBound...(range.lowerBound + left - 1))
    }

    private var limitReached: String {
        "Download limit reached: this purchase allows \(limit) download\(limit == 1 ? "" : "s") of this file "
            + "(\(limit) × \(fileSize) bytes), all served. Contact the seller if you need more."
    }

    /// An earlier transfer of the same file under the same purchase that was cut short.
    public struct InterruptedTransfer: Sendable, Equatable {
        public var firstByte: Int64
        /// Bytes written to the connection before it failed.
        public var sent: Int64

        public init(firstByte: Int64, sent: Int64) {
            self.firstByte = firstByte
            self.sent = sent
        }
    }

    /// The bytes to credit back to `transfer` when a new request starts at `start`: those it
    /// wrote from `start` on, if `start` lies within its last `resumeSlack` bytes or just past
    /// them (it is then a resume of it), at most `creditLeft` (what the one-file cap still
    /// allows). 0: a resume with nothing to credit (it starts where the transfer stopped, or the
    /// cap is used up), which still uses the transfer's one resume. Nil: not a resume.
    public static func resumeCredit(of transfer: InterruptedTransfer, resumingAt start: Int64, creditLeft: Int64)
        -> Int64?
    {
        let end = transfer.firstByte + transfer.sent  // one past the last byte written
        guard start >= transfer.firstByte, start <= end, end - start <= resumeSlack else { return nil }
        return max(0, min(end - start, creditLeft))
    }
}
