/// What an e-mail says, before it is written out as plain text and as HTML (the `message`
/// template): the words live here once, the look in the template a theme may replace.
struct MailContent: Sendable {
    struct Action: Sendable {
        var label: String
        var url: String
    }

    /// Why the e-mail came and the way out (also the `List-Unsubscribe` header).
    struct Footer: Sendable {
        var why: String
        var unsubscribeURL: String
        var choicesURL: String
    }

    var subject: String
    var greeting: String
    var heading: String? = nil
    var paragraphs: [String]
    var action: Action? = nil
    var notes: [String] = []
    var footer: Footer? = nil

    /// The plain-text part: greeting, paragraphs, the link on its own line, notes, signature, footer.
    func text(storeName: String) -> String {
        var lines = [greeting, ""]
        if let heading { lines += [heading, ""] }
        lines += paragraphs
        if let action { lines += ["\(action.label):", "  \(action.url)"] }
        if !notes.isEmpty { lines += [""] + notes }
        lines += ["", "— \(storeName)"]
        if let footer {
            lines += [
                "", footer.why, "Turn these e-mails off: \(footer.unsubscribeURL)", "All your e-mail choices: \(footer.choicesURL)",
            ]
        }
        return lines.joined(separator: "\n")
    }
}
