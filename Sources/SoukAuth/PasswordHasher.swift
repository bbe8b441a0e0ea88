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

    /// A hash of a random password, verified against when the e-mail is unknown so that sign-in
    /// takes as long for a missing account as for a wrong password (no account enumeration by timing).
    public func decoyHash() async -> String { await hash("decoy-\(cost)-password") }
}
