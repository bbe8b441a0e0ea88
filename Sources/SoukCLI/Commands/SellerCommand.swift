import ArgumentParser
import SoukCore

struct SellerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seller", abstract: "Review sellers: list, verify, reject, suspend.",
        subcommands: [List.self, Verify.self, Reject.self, Suspend.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List seller accounts.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only sellers waiting for verification.") var pending = false
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let (settings, _, database) = try global.open()
            let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
            let users = try await reportingErrors {
                try await admin.users(role: .seller, sellerStatus: pending ? .pending : nil)
            }
            print(AccountAdmin.render(users, json: json))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify a seller: they may publish products.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail of the seller.") var email: String
        func run() async throws { try await SellerCommand.set(email, .verified, global) }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a seller's application.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail of the seller.") var email: String
        @Option(help: "Why, in a sentence the seller sees.") var reason: String?
        func run() async throws { try await SellerCommand.set(email, .rejected, reason: reason, global) }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Suspend a verified seller: they may no longer sell.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail of the seller.") var email: String
        @Option(help: "Why, in a sentence the seller sees.") var reason: String?
        func run() async throws { try await SellerCommand.set(email, .suspended, reason: reason, global) }
    }

    static func set(_ email: String, _ status: SellerStatus, reason: String? = nil, _ global: GlobalOptions) async throws {
        let (settings, _, database) = try global.open()
        let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
        let user = try await reportingErrors { try await admin.setSellerStatus(email: email, status, reason: reason) }
        print("seller \(user.email) is now \(status.rawValue)")
    }
}
