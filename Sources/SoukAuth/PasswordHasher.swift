import Dispatch
import HummingbirdBcrypt

/// bcrypt, run off the caller's thread: one hash costs ~260 ms at cost 12 and would stall an
/// event loop or the cooperative pool.
public struct PasswordHasher: Sendable {
    public let cost: Int
    private static let queue = DispatchQueue(label: "souk.bcrypt", attributes: .concurrent)

    public init(cost: Int) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4...31")
        self.cost = cost
    }

    public func hash(_ password: String) async -> String {
        let cost = UInt8(cost)
        return await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: Bcrypt.hash(password, cost: cost)) }
        }
    }

    public func verify(_ password: String, hash: String) async -> Bool {
        await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: Bcrypt.verify(password, hash: hash)) }
        }
    }

    /// What a sign-in with an unknown e-mail verifies against, so that it takes as long as a wrong
    /// password (no account enumeration by timing): a well-formed bcrypt hash at this cost that no
    /// password matches. Verifying reads the cost and salt from it and does the full work. Built,
    /// not computed: hashing a decoy cost every start of the server ~260 ms of CPU at cost 12.
    public var decoyHash: String {
        let cost = cost < 10 ? "0\(cost)" : "\(cost)"
        // 22 characters of salt, then 31 of hash, in bcrypt's base64 alphabet.
        return "$2b$\(cost)$Sou.kDecoySaltForUnknownAccountsNoPasswordMatchesThis"
    }
}
