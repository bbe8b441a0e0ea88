import Foundation
import SoukAuth
import SoukCore
import SoukDatabase

/// The operator's account actions as plain functions; the `souk user` and `souk seller` commands
/// are thin wrappers, and the tests call these directly.
public struct AccountAdmin: Sendable {
    public let accounts: AccountService

    public init(database: AppDatabase, bcryptCost: Int) async {
        accounts = await AccountService(
            database: database, hasher: PasswordHasher(cost: bcryptCost), sessionLifetime: 3600)
    }

    var database: AppDatabase { accounts.database }

    public func createUser(email: String, name: String, role: Role, password: String) async throws -> User {
        try await accounts.register(email: email, password: password, name: name, role: role)
    }

    public func users(role: Role? = nil, sellerStatus: SellerStatus? = nil) async throws -> [User] {
        try await database.users(role: role, sellerStatus: sellerStatus)
    }

    public func setDisabled(email: String, _ disabled: Bool) async throws -> User {
        try await accounts.setDisabled(.email(email), disabled)
    }

    public func setSellerStatus(email: String, _ status: SellerStatus, reason: String? = nil) async throws -> User {
        try await accounts.setSellerStatus(.email(email), status, reason: reason)
    }

    public func resetPassword(email: String, password: String) async throws -> User {
        try await accounts.resetPassword(email: try AccountRules.email(email), to: password)
    }

    /// `souk user list` / `souk seller list` output.
    public static func render(_ users: [User], json: Bool) -> String {
        if json {
            return TableOutput.json(
                users.map { user in
                    [
                        "id": .string(user.id), "email": .string(user.email), "name": .string(user.name),
                        "role": .string(user.role.rawValue), "seller_status": user.sellerStatus.map { .string($0.rawValue) } ?? .null,
                        "disabled": .bool(user.disabled), "created_at": .string(Timestamp.rfc3339(user.createdAt)),
                    ]
                })
        }
        return TableOutput.text(
            headers: ["ID", "EMAIL", "NAME", "ROLE", "SELLER STATUS", "DISABLED", "CREATED"],
            rows: users.map { user in
                [
                    user.id, user.email, user.name, user.role.rawValue, user.sellerStatus?.rawValue ?? "-",
                    user.disabled ? "yes" : "no", Timestamp.rfc3339(user.createdAt),
                ]
            })
    }
}
