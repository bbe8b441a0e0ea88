import ArgumentParser
import SoukCore

extension Role: ExpressibleByArgument {}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts.",
        subcommands: [Create.self, List.self, Disable.self, Enable.self, ResetPassword.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account. The password is read from standard input, or prompted for.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "buyer, seller or admin.") var role: Role
        @Option(help: "E-mail address (the sign-in name).") var email: String
        @Option(help: "Display name (default: the part of the e-mail before @).") var name: String?

        func run() async throws {
            let (settings, _, database) = try global.open()
            let password = try readPassword(prompt: "Password for \(email)")
            let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
            let user = try await reportingErrors {
                var user = try await admin.createUser(
                    email: email, name: name ?? String(email.prefix { $0 != "@" }), role: role, password: password)
                // Sellers created by the operator are trusted from the start.
                if role == .seller { user = try await admin.setSellerStatus(email: user.email, .verified) }
                return user
            }
            print("created \(user.role.rawValue) \(user.email) (\(user.id))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this role.") var role: Role?
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let (settings, _, database) = try global.open()
            let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
            let users = try await reportingErrors { try await admin.users(role: role) }
            print(AccountAdmin.render(users, json: json))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable an account: it can no longer sign in; its sessions, access tokens and sign-in links end at once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail of the account.") var email: String

        func run() async throws {
            let (settings, _, database) = try global.open()
            let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
            let user = try await reportingErrors { try await admin.setDisabled(email: email, true) }
            print("disabled \(user.email); their sessions, access tokens and unused sign-in links have ended")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail of the account.") var email: String

        func run() async throws {
            let (settings, _, database) = try global.open()
            let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
            let user = try await reportingErrors { try await admin.setDisabled(email: email, false) }
            print("enabled \(user.email)")
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password (from standard input, or prompted for); the account's sessions, access tokens and sign-in links end.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "E-mail of the account.") var email: String

        func run() async throws {
            let (settings, _, database) = try global.open()
            let password = try readPassword(prompt: "New password for \(email)")
            let admin = await AccountAdmin(database: database, bcryptCost: settings.auth.bcryptCost)
            let user = try await reportingErrors { try await admin.resetPassword(email: email, password: password) }
            print("password of \(user.email) changed; their sessions, access tokens and unused sign-in links have ended")
        }
    }
}
