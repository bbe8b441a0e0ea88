import ArgumentParser
import Foundation
import SoukCore
import SoukDatabase

/// `souk announce`: a platform announcement, in every active account's notifications.
struct AnnounceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "announce",
        abstract: "Send a platform announcement to every active account's notifications (or one role's).",
        discussion: """
            It appears in /notifications and GET /api/v1/notifications. Running the same announcement \
            again (a retried script) notifies nobody twice.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "The headline (1–200 characters).") var title: String
    @Option(help: "The text (up to 2,000 characters).") var body = ""
    @Option(help: "A link: a path in the store (/products/…) or an http(s) address.") var url: String?
    @Option(help: "Only accounts with this role: buyer, seller or admin.") var role: Role?
    @Flag(help: "Print JSON instead of a sentence.") var json = false

    func run() async throws {
        let (_, _, database) = try global.open()
        let notified = try await reportingErrors {
            try await database.announce(try Announcement(title: title, body: body, url: url, audience: role))
        }
        if json {
            print(#"{"notified":\#(notified)}"#)
        } else {
            let audience = role.map { "\($0.rawValue) accounts" } ?? "accounts"
            print("announced \"\(title)\" to \(notified) \(audience)" + (notified == 0 ? " (everyone already had it)" : ""))
        }
    }
}
